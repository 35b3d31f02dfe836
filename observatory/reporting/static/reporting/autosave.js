/* Autosave of questionnaire cells: each changed field is sent with the version it was read at.
   A stale version comes back as 409 and the newer value is shown, never overwritten silently. */
(function () {
  "use strict";
  var statusBox = document.getElementById("autosave-status");

  function say(text) { if (statusBox) { statusBox.textContent = text; } }

  function messagesFor(cell) {
    return document.querySelector('[data-messages="' + CSS.escape(cell) + '"]');
  }

  function showMessages(cell, texts, kind) {
    var box = messagesFor(cell);
    if (!box) { return; }
    box.textContent = "";
    texts.forEach(function (text) {
      var div = document.createElement("div");
      div.className = kind || "msg";
      div.textContent = text;
      box.appendChild(div);
    });
  }

  function updateCompleteness(items) {
    items.forEach(function (item) {
      var percent = item.required ? Math.round(100 * item.answered / item.required) : 100;
      var text = document.querySelector('[data-completeness="' + item.module + '"]');
      if (text) { text.textContent = item.answered + " of " + item.required + " required cells (" + percent + "%)"; }
      var bar = document.querySelector('[data-progress="' + item.module + '"]');
      if (bar) { bar.max = item.required; bar.value = item.answered; }
      var tab = document.querySelector('[data-module-percent="' + item.module + '"]');
      if (tab) { tab.textContent = percent + "%"; }
    });
  }

  function save(form, field) {
    var cell = field.dataset.cell;
    var version = parseInt(field.dataset.version || "0", 10);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    say("Saving…");
    fetch("/api/v1/reporting/submissions/" + form.dataset.submission + "/values", {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ cells: [{ cell: cell, value: field.value, version: version }] })
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status === 200) {
        result.body.saved.forEach(function (saved) {
          field.dataset.version = String(saved.version);
          var hidden = form.querySelector('input[name="ver:' + CSS.escape(saved.cell) + '"]');
          if (hidden) { hidden.value = String(saved.version); }
          var original = form.querySelector('input[name="o:' + CSS.escape(saved.cell) + '"]');
          if (original) { original.value = saved.value; }
        });
        field.removeAttribute("aria-invalid");
        updateCompleteness(result.body.completeness);
        var texts = (result.body.messages || {})[cell] || [];
        showMessages(cell, texts);
        say("Saved " + new Date().toLocaleTimeString() + ".");
      } else if (result.status === 409) {
        var conflict = result.body.conflicts[0];
        field.setAttribute("aria-invalid", "true");
        showMessages(cell, ["Not saved: changed by " + (conflict.updated_by || "someone else") +
          " to “" + conflict.current_value + "”. Reload the page to see it, then enter yours again if it should replace it."], "cell-error");
        say("Conflict: a cell was changed by someone else; nothing was overwritten.");
      } else if (result.status === 400 && result.body.errors) {
        field.setAttribute("aria-invalid", "true");
        showMessages(cell, result.body.errors.map(function (e) { return e.reason; }), "cell-error");
        say("Not saved: " + result.body.errors[0].reason);
      } else {
        say("Not saved: " + (result.body.detail || ("error " + result.status)));
      }
    }).catch(function () { say("Not saved: the connection failed. Your entry is still in the field."); });
  }

  document.querySelectorAll("form.module-form").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (field && field.dataset && field.dataset.cell && !field.readOnly && !field.disabled) { save(form, field); }
    });
  });
})();
