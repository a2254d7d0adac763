// The console's progressive enhancement: preemption countdowns and confirmations. Pages work without it.
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.until) - now) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = "preempting now"; el.classList.add("due"); return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = "preempted in " + m + ":" + (s < 10 ? "0" : "") + s;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    if (document.querySelector(".countdown")) setInterval(tick, 1000);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
  });
})();
