/* Intake form: the channel decides what the source reference is called and whether the
   complainant's fields apply (anonymous). Without JavaScript the form still works: the
   server checks the same rules. Labels come from data-labels="hotline=热线工单号|…". */
(function () {
  "use strict";

  function setup() {
    var form = document.getElementById("intake-form");
    if (!form) return;
    var channel = form.querySelector("[name=channel]");
    var ref = form.querySelector("[name=source_ref]");
    var anonymous = form.querySelector("[name=anonymous]");
    var refField = form.querySelector("[data-field=source_ref]");
    var refLabel = refField && refField.querySelector("label");
    var labels = {};
    (ref.getAttribute("data-labels") || "").split("|").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i > 0) labels[pair.slice(0, i)] = pair.slice(i + 1);
    });
    var plain = refLabel ? refLabel.textContent : "";

    function update() {
      var wanted = labels[channel.value];
      if (refLabel) refLabel.textContent = wanted ? wanted + " *" : plain;
      if (refField) refField.hidden = !wanted && !ref.value;
      ["name", "phone", "id_number", "address", "email"].forEach(function (name) {
        var box = form.querySelector("[data-field=" + name + "]");
        if (box) box.hidden = anonymous.checked;
      });
    }

    channel.addEventListener("change", update);
    anonymous.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
