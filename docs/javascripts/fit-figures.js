// Text figures (the ```text blocks: the lessons' pictures and the outputs they show) shrink to fit the
// column instead of scrolling sideways: on a projector or a phone, a scrolled figure is a figure cut off.
// Code blocks keep their size and scroll, since code is copied rather than looked at whole.
(function () {
  "use strict";

  function fit(code) {
    code.style.fontSize = "";
    for (let attempt = 0; attempt < 3 && code.scrollWidth > code.clientWidth; attempt += 1) {
      const size = parseFloat(getComputedStyle(code).fontSize);
      code.style.fontSize = (size * code.clientWidth / code.scrollWidth * 0.99).toFixed(2) + "px";
    }
  }

  function fitAll() {
    document.querySelectorAll(".md-typeset div.language-text > pre > code").forEach(fit);
  }

  // Material's instant navigation swaps pages without a load event: its document$ says when one is shown.
  if (typeof document$ !== "undefined") {
    document$.subscribe(fitAll);
  } else {
    document.addEventListener("DOMContentLoaded", fitAll);
  }
  window.addEventListener("resize", fitAll);
})();
