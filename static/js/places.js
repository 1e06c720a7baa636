// Refill the commune list when the province changes; without script a button does it.
(function () {
  "use strict";
  var province = document.getElementById("province_code");
  var commune = document.getElementById("commune_code");
  if (!province || !commune || !window.fetch) return;
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  province.addEventListener("change", function () {
    var url = province.getAttribute("data-communes-url") + "?province=" + encodeURIComponent(province.value);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (communes) {
        var first = commune.options[0];
        commune.innerHTML = "";
        commune.appendChild(first);
        communes.forEach(function (item) {
          var option = document.createElement("option");
          option.value = item.code;
          option.textContent = item.name;
          commune.appendChild(option);
        });
      });
  });
})();
