// Owner fields suggest the incident's people at first and, as a name is typed,
// anyone whose name or username contains it (at most twenty, from the server):
// a datalist of every username made each incident page heavy in a large organisation.
(function () {
  "use strict";
  for (const list of document.querySelectorAll("datalist[data-suggest]")) {
    let timer = null;
    let asked = "";
    const fill = async (text) => {
      if (text === asked) return;
      asked = text;
      const response = await fetch(`${list.dataset.suggest}?q=${encodeURIComponent(text)}`, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok || asked !== text) return;
      const { people } = await response.json();
      list.replaceChildren(
        ...people.map((person) => {
          const option = document.createElement("option");
          option.value = person.username;
          option.label = person.name;
          return option;
        }),
      );
    };
    for (const input of document.querySelectorAll(`input[list="${list.id}"]`)) {
      input.addEventListener("input", () => {
        clearTimeout(timer);
        const text = input.value.trim();
        if (text.length >= 2) timer = setTimeout(() => fill(text), 200);
      });
    }
  }
})();
