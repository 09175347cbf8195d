// jointops browser behaviour. No inline scripts anywhere: everything hangs off data-* attributes here,
// so a strict Content-Security-Policy (script-src 'self') can be turned on.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests that change something carry Django's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  // <form data-confirm="Question?">: ask before submitting a destructive action.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // <button data-copy-target="#id" data-copied-label="Copied">: copy a read-only field (the one-time token).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) {
      return;
    }
    field.select();
    var done = function () {
      button.textContent = button.dataset.copiedLabel || button.textContent;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
