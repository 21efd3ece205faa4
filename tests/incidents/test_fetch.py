import socket

import pytest

from incidents import fetch
from incidents.fetch import FetchError, check_image, fetch_image
from morgue import outbound
from tests.incidents.graph_server import PNG, SVG, graph_server


@pytest.fixture
def server():
    with graph_server() as (base, requests):
        yield base, requests


def allow(base: str) -> frozenset[str]:
    return frozenset({base.removeprefix("http://")})


def test_an_allowed_local_graph_server_is_fetched(server):
    base, _ = server
    image = fetch_image(f"{base}/graph.png", allowed_hosts=allow(base))
    assert image.content == PNG
    assert image.content_type == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/graph.png",
        "http://localhost/graph.png",
        "http://[::1]/graph.png",
        "http://[::ffff:127.0.0.1]/graph.png",
        "http://0.0.0.0/graph.png",
        "http://10.1.2.3/render?target=a",
        "http://172.16.0.5/graph.png",
        "http://192.168.1.10/graph.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/graph.png",
        "http://[fd00::1]/graph.png",
        "http://[fe80::1]/graph.png",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url):
    with pytest.raises(FetchError) as refused:
        fetch_image(url)
    assert "GRAPH_FETCH_ALLOWED_HOSTS" in refused.value.reason
    assert not refused.value.transient


def test_a_loopback_server_is_refused_unless_allowed(server):
    base, requests = server
    with pytest.raises(FetchError, match="loopback"):
        fetch_image(f"{base}/graph.png")
    assert requests == []


def test_allowing_a_host_with_another_port_does_not_allow_this_one(server):
    base, requests = server
    with pytest.raises(FetchError):
        fetch_image(f"{base}/graph.png", allowed_hosts=frozenset({"127.0.0.1:1"}))
    assert requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://localhost:6379/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(server, target):
    base, requests = server
    with pytest.raises(FetchError, match="GRAPH_FETCH_ALLOWED_HOSTS"):
        fetch_image(f"{base}/redirect-to/{target}", allowed_hosts=allow(base))
    assert len(requests) == 1


def test_a_redirect_within_the_allowed_server_is_followed(server):
    base, _ = server
    image = fetch_image(f"{base}/redirect-to/{base}/graph.png", allowed_hosts=allow(base))
    assert image.content == PNG


def test_at_most_three_redirects_are_followed(server):
    base, requests = server
    with pytest.raises(FetchError, match="more than 3"):
        fetch_image(f"{base}/loop", allowed_hosts=allow(base))
    assert len(requests) == 4


@pytest.mark.parametrize(
    "url", ["ftp://example.com/graph.png", "file:///etc/passwd", "gopher://x/", "javascript:x"]
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchError, match="http and https"):
        fetch_image(url)


def test_a_url_with_credentials_is_refused():
    with pytest.raises(FetchError, match="password"):
        fetch_image("http://user:secret@graphs.example.com/graph.png")


def test_a_web_page_is_not_an_image(server):
    base, _ = server
    with pytest.raises(FetchError, match="web page"):
        fetch_image(f"{base}/page", allowed_hosts=allow(base))


def test_svg_is_refused(server):
    base, _ = server
    with pytest.raises(FetchError, match="SVG"):
        fetch_image(f"{base}/svg", allowed_hosts=allow(base))


def test_a_body_over_five_megabytes_is_refused_without_reading_it_all(server):
    base, _ = server
    with pytest.raises(FetchError, match="5 MB"):
        fetch_image(f"{base}/big", allowed_hosts=allow(base))


def test_server_errors_are_transient_and_client_errors_are_not(server):
    base, _ = server
    with pytest.raises(FetchError) as unavailable:
        fetch_image(f"{base}/unavailable", allowed_hosts=allow(base))
    assert unavailable.value.transient
    with pytest.raises(FetchError) as missing:
        fetch_image(f"{base}/missing", allowed_hosts=allow(base))
    assert not missing.value.transient
    assert "404" in missing.value.reason


def test_too_many_requests_is_transient(server):
    base, _ = server
    with pytest.raises(FetchError, match="429") as throttled:
        fetch_image(f"{base}/too-many", allowed_hosts=allow(base))
    assert throttled.value.transient


def test_an_allowed_host_matches_whatever_the_case_of_the_url(server, monkeypatch):
    base, _ = server
    port = int(base.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        outbound.socket,
        "getaddrinfo",
        lambda host, *args, **kwargs: real_getaddrinfo("127.0.0.1", *args, **kwargs),
    )
    image = fetch_image(
        f"http://Graphs.Example.TEST:{port}/graph.png", allowed_hosts=frozenset({"graphs.example.test"})
    )
    assert image.content == PNG


def test_an_ipv4_address_written_as_ipv6_is_judged_as_that_ipv4_address(monkeypatch):
    answers = {"public.example.test": "::ffff:93.184.216.34", "private.example.test": "::ffff:10.0.0.1"}

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (answers[host], port, 0, 0))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    assert fetch.resolve("public.example.test", 80) == "::ffff:5db8:d822"
    with pytest.raises(FetchError, match="private"):
        fetch.resolve("private.example.test", 80)


def test_a_server_that_never_answers_times_out_as_transient():
    # A listening socket nobody accepts on: the connection opens, no answer ever comes.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(FetchError, match="did not answer") as timed_out:
            fetch_image(f"http://127.0.0.1:{port}/", allowed_hosts=frozenset({"127.0.0.1"}), timeout=0.3)
        assert timed_out.value.transient
    finally:
        listener.close()


def test_the_connection_goes_to_the_address_that_was_checked(server, monkeypatch):
    # The host resolves once; a second, different answer (DNS rebinding) is never asked for.
    base, requests = server
    port = int(base.rsplit(":", 1)[1])
    answers = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        answers.append(host)
        if host == "graphs.example.test":
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        raise AssertionError(f"unexpected lookup of {host}")

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    image = fetch_image(
        f"http://graphs.example.test:{port}/graph.png", allowed_hosts=frozenset({"graphs.example.test"})
    )
    assert image.content == PNG
    assert answers == ["graphs.example.test"]
    assert requests == [("/graph.png", f"graphs.example.test:{port}")]


def test_uploaded_images_get_the_same_checks():
    assert check_image(PNG).content_type == "image/png"
    assert check_image(b"\xff\xd8\xff\xe0rest").content_type == "image/jpeg"
    assert check_image(b"GIF89a....").content_type == "image/gif"
    with pytest.raises(FetchError, match="SVG"):
        check_image(SVG)
    with pytest.raises(FetchError, match="5 MB"):
        check_image(PNG + b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(FetchError, match="not return an image"):
        check_image(b"%PDF-1.7")
