// Text figures (the ```text blocks: the lessons' pictures and the outputs they show) shrink to fit the
// column instead of scrolling sideways: on a projector or a phone, a scrolled figure is a figure cut off.
// Code blocks keep their size and scroll, since code is copied rather than looked at whole.
(function () {
  "use strict";

  const SMALLEST = 10; // px: below this a figure is unreadable, so a longer line wraps instead

  function fit(code) {
    code.style.fontSize = "";
    code.style.whiteSpace = "";
    code.style.overflowWrap = "";
    for (let attempt = 0; attempt < 3 && code.scrollWidth > code.clientWidth; attempt += 1) {
      const size = parseFloat(getComputedStyle(code).fontSize);
      const fitted = size * code.clientWidth / code.scrollWidth * 0.99;
      if (fitted < SMALLEST) { // one very long output line (a list of fixtures, say): wrap it
        code.style.fontSize = SMALLEST + "px";
        code.style.whiteSpace = "pre-wrap";
        code.style.overflowWrap = "anywhere";
        return;
      }
      code.style.fontSize = fitted.toFixed(2) + "px";
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
