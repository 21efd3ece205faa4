"""Webhooks, chat and push URLs follow morgue.outbound: public addresses only, pinned, redirects checked."""

import http.server
import json
import socket
import threading
from contextlib import contextmanager

import pytest

from morgue import outbound
from oncall import notify, providers
from oncall.providers.base import DeliveryFailed


def answer_with(*addresses):
    """A getaddrinfo that answers `addresses` in turn (the last one repeats), counting the lookups."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        address = addresses[min(len(calls), len(addresses) - 1)]
        calls.append(host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    getaddrinfo.calls = calls
    return getaddrinfo


@contextmanager
def http_server(redirect_to=""):
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, dict(self.headers.items()), body))
            if redirect_to:
                self.send_response(307)
                self.send_header("Location", redirect_to)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "::ffff:10.0.0.5",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "169.254.169.254",  # link-local (cloud metadata)
        "fe80::1",
        "224.0.0.1",  # multicast
        "ff02::1",
        "240.0.0.1",  # reserved
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "fc00::1",
    ],
)
def test_a_webhook_resolving_to_a_non_public_address_is_refused(address, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", answer_with(address))
    with pytest.raises(notify.WebhookRefused, match="private network"):
        notify.check_webhook_address("https://hooks.example.com/x")
    with pytest.raises(notify.WebhookRefused):
        notify.post_webhook("https://hooks.example.com/x", {"page": 1})


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1::1", "2002:5db8:d822::1", "64:ff9b::5db8:d822"]
)
def test_public_addresses_and_their_ipv6_forms_pass(address):
    assert outbound.is_public(outbound.ipaddress.ip_address(address))


def test_a_refused_address_is_told_without_naming_what_the_host_resolves_to(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", answer_with("10.1.2.3"))
    with pytest.raises(notify.WebhookRefused) as refused:
        notify.check_webhook_address("https://hooks.example.com/x")
    assert "10.1.2.3" not in str(refused.value)


def test_a_redirect_to_a_private_address_is_refused(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with (
        http_server(redirect_to="http://10.0.0.5/steal") as (port, received),
        pytest.raises(notify.WebhookRefused, match="private network"),
    ):
        notify.post_webhook(f"http://127.0.0.1:{port}/hook", {"page": 1})
    assert len(received) == 1


def test_a_redirect_to_a_public_address_is_followed_to_the_checked_address(settings, monkeypatch):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with (
        http_server() as (target_port, target),
        http_server(redirect_to=f"http://127.0.0.1:{target_port}/moved") as (port, first),
    ):
        assert notify.post_webhook(f"http://127.0.0.1:{port}/hook", {"page": 1}) == 200
    assert len(first) == 1 and [path for path, _, _ in target] == ["/moved"]
    assert json.loads(target[0][2]) == {"page": 1}  # a 307 repeats the POST


def test_the_connection_goes_to_the_address_that_was_checked(settings, monkeypatch):
    """DNS rebinding: the name answers a public address for the check, then loopback."""
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = False
    lookups = answer_with("93.184.216.34", "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", lookups)
    connected = []
    real_connect = outbound._connect

    with http_server() as (port, received):

        def connect(address, target_port, timeout):
            connected.append((address, target_port))
            return real_connect("127.0.0.1", port, timeout)  # stands in for the public server

        monkeypatch.setattr(outbound, "_connect", connect)
        assert notify.post_webhook("http://hooks.example.com/x", {"page": 1}) == 200
    assert connected == [("93.184.216.34", 80)]
    assert lookups.calls == ["hooks.example.com"]  # resolved once
    (_path, headers, body) = received[0]
    assert headers["Host"] == "hooks.example.com" and json.loads(body) == {"page": 1}
    assert headers["Content-Type"] == "application/json"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_port_and_a_silent_one_get_the_same_sentence(settings, caplog):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    closed = free_port()
    with pytest.raises(DeliveryFailed) as refused:
        providers.base.post(f"http://127.0.0.1:{closed}/x", body=b"{}", headers={})
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(DeliveryFailed) as timed_out:
            providers.base.post(f"http://127.0.0.1:{port}/x", body=b"{}", headers={}, timeout=0.3)
    assert str(refused.value) == str(timed_out.value) == notify.UNREACHABLE
    assert not refused.value.permanent and not timed_out.value.permanent
    assert str(closed) not in str(refused.value)
    # The detail is in the log, for whoever runs Morgue.
    assert "ConnectionRefusedError" in caplog.text and "timed out" in caplog.text


def test_a_team_webhook_that_cannot_be_reached_gets_the_generic_sentence(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    message = providers.Message(title="t", text="x", link="https://morgue.example/p/1", acknowledge_url="")
    with pytest.raises(DeliveryFailed, match="The webhook could not be reached"):
        providers.send("webhook", f"http://127.0.0.1:{free_port()}/hook", message)
