// licensedot dashboard: building DOM and SVG elements without parsing HTML. Loaded before
// charts.js and dashboard.js, which use it as `window.licensedot.dom`.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";

  // Sets attributes, listeners, dataset and (through the CSSOM, which the page's
  // Content-Security-Policy allows where style attributes it would not) styles.
  function attributes(el, attrs) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "style") Object.assign(el.style, value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    return el;
  }

  // Appends children (nested arrays flattened, null/undefined/false skipped) to `el`.
  function fill(el, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  // An HTML element: h("td", {class: "x"}, "text", otherNode). Text is always set as text.
  function h(tag, attrs, ...children) {
    return fill(attributes(document.createElement(tag), attrs), ...children);
  }

  // The same for SVG elements (the SVG namespace is a name, not a place the page loads from).
  function svg(tag, attrs, ...children) {
    return fill(attributes(document.createElementNS(SVG_NS, tag), attrs), ...children);
  }

  window.licensedot = Object.assign(window.licensedot || {}, { dom: { h, svg, fill } });
})();
