// Search-as-you-type: offer listings under the header's search box. The box works
// without this script (it is a plain GET form); this only adds the list.
(function () {
  "use strict";
  var input = document.getElementById("site-search");
  if (!input || !window.fetch || input.disabled) return;
  var form = input.form;
  var list = document.createElement("ul");
  list.className = "suggest-list";
  list.hidden = true;
  list.id = "site-search-suggestions";
  list.setAttribute("role", "listbox");
  form.appendChild(list);
  input.setAttribute("aria-controls", list.id);
  var timer = null;
  var last = "";

  function show(items) {
    list.innerHTML = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.name;
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
  }

  input.addEventListener("input", function () {
    var text = input.value.trim();
    clearTimeout(timer);
    if (text.length < 2) { show([]); return; }
    timer = setTimeout(function () {
      if (text === last) return;
      last = text;
      fetch(form.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(show)
        .catch(function () { show([]); });
    }, 200);
  });
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) list.hidden = true;
  });
})();
