/*
 * Agent console enhancements; the page works without this file.
 * Choosing a knowledge-base answer copies it into 答复内容, unless the operator has
 * typed their own answer there.
 */
(function () {
  "use strict";

  var copied = "";

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches("input[name='article'][data-answer]")) return;
    var box = document.getElementById("id_answer");
    if (!box) return;
    if (box.value.trim() === "" || box.value === copied) {
      copied = radio.getAttribute("data-answer");
      box.value = copied;
    }
  });
})();
