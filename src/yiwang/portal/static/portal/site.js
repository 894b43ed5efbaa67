/*
 * Small progressive enhancements. Every page works without this file.
 * - [data-autofocus]: move focus to the error summary so screen readers read it first.
 * - [data-countdown="60"] on a "send code" button: disable it and count down after submit.
 */
(function () {
  "use strict";

  // Default wording per page language; a button may bring its own in data-countdown-text.
  var COUNTDOWN_TEXT = { zh: "{s} 秒后可重新发送", en: "Resend in {s} s" };

  function pageLanguage() {
    return (document.documentElement.lang || "zh").slice(0, 2) === "en" ? "en" : "zh";
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function focusErrorSummary() {
    var box = document.querySelector("[data-autofocus]");
    if (box) box.focus();
  }

  function startCountdown(button) {
    var seconds = parseInt(button.getAttribute("data-countdown"), 10) || 60;
    var label = button.textContent;
    var template = button.getAttribute("data-countdown-text") || COUNTDOWN_TEXT[pageLanguage()];
    button.disabled = true;
    var timer = window.setInterval(function () {
      seconds -= 1;
      if (seconds <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = template.replace("{s}", String(seconds));
    }, 1000);
    button.textContent = template.replace("{s}", String(seconds));
  }

  function countdowns() {
    // Buttons rendered already counting (the server knows a code was just sent).
    document.querySelectorAll("[data-countdown][data-countdown-start]").forEach(startCountdown);
    document.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (button && button.hasAttribute("data-countdown") && !button.disabled) {
        // Let the form submit with this button's name/value first, then lock it.
        window.setTimeout(function () { startCountdown(button); }, 0);
      }
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var el = event.detail && event.detail.elt;
      if (el && el.hasAttribute("data-countdown") && event.detail.successful) startCountdown(el);
    });
  }

  ready(function () {
    focusErrorSummary();
    countdowns();
  });
})();
