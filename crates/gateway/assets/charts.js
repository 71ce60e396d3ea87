// licensedot dashboard: the customer view's charts, drawn as SVG by the page itself (no script,
// style or font from anywhere else). Each chart tells its story without colour alone (line
// styles, markers, hatching and words) and carries its numbers as a table on request.
//   usageChart: a server's active users and historical max users per usage ping, with the
//     licensed seats as a step line; hover or focus a ping for its date, version and numbers.
//   licenseTimeline: every license of a customer as a bar from start to expiry on one time
//     axis, trials hatched, today marked, gaps and overlaps shaded and named.
"use strict";

(function () {
  const DAY = 86400000;

  const dom = () => window.licensedot.dom;

  function parseDay(value) {
    // "YYYY-MM-DD" or an RFC 3339 instant, in UTC.
    const t = Date.parse(String(value).length === 10 ? `${value}T00:00:00Z` : value);
    return Number.isNaN(t) ? null : t;
  }

  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function fmt(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en");
  }

  // A round number at or above `value`, for the top of a y axis.
  function niceCeil(value) {
    if (value <= 0) return 10;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * magnitude >= value);
    return step * magnitude;
  }

  function linear(d0, d1, r0, r1) {
    const span = d1 - d0 || 1;
    return (v) => r0 + ((v - d0) / span) * (r1 - r0);
  }

  let chartIds = 0;

  // ---- Usage over time ---------------------------------------------------------------------

  const USAGE = { width: 900, height: 220, left: 52, right: 16, top: 14, bottom: 30 };

  // host: the server's name; pings: [{recordedAt, version, activeUserCount, historicalMaxUsers}];
  // seatsAt(ms): the licensed seats at that instant, or null.
  function usageChart(host, pings, seatsAt) {
    const { h, svg } = dom();
    const id = `chart-${++chartIds}`;
    const points = pings
      .map((p) => ({ ...p, t: parseDay(p.recordedAt) }))
      .filter((p) => p.t !== null)
      .sort((a, b) => a.t - b.t)
      .map((p) => ({ ...p, seats: seatsAt(p.t) }));
    const figure = h("figure", { class: "chart usage-chart", dataset: { hostname: host }, "aria-labelledby": `${id}-caption` });
    if (points.length === 0) {
      return fill(figure, h("figcaption", { id: `${id}-caption` }, `${host}: no usage pings yet.`));
    }
    const { width, height, left, right, top, bottom } = USAGE;
    const t0 = points[0].t;
    const t1 = points.length > 1 ? points[points.length - 1].t : t0 + DAY;
    const highest = Math.max(...points.flatMap((p) => [p.activeUserCount || 0, p.historicalMaxUsers || 0, p.seats || 0]));
    const yMax = niceCeil(highest * 1.1);
    const x = linear(t0, t1, left, width - right);
    const y = linear(0, yMax, height - bottom, top);

    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "group",
      "aria-label": `Active users per usage ping of ${host}; each point can be focused for its numbers`,
      dataset: { yMax, plotTop: top, plotBottom: height - bottom, plotLeft: left, plotRight: width - right, t0, t1 },
    });
    // Axes and grid: four steps up the y axis, the first, middle and last dates along x.
    for (let i = 0; i <= 4; i++) {
      const v = (yMax / 4) * i;
      fill(chart,
        svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }),
        svg("text", { x: left - 6, y: y(v) + 4, class: "tick tick-y" }, fmt(v)));
    }
    const dates = points.length > 2 ? [points[0], points[Math.floor(points.length / 2)], points[points.length - 1]]
      : points;
    dates.forEach((p, i) => chart.append(svg("text", {
      x: x(p.t), y: height - 10, class: `tick tick-x${i === 0 ? " first" : ""}${i === dates.length - 1 && i > 0 ? " last" : ""}`,
    }, isoDay(p.t))));

    // Licensed seats: a step line, flat while the seats stay the same.
    let seatsPath = "";
    points.forEach((p, i) => {
      if (p.seats === null || p.seats === undefined) return;
      const next = points[i + 1];
      const xEnd = next ? x(next.t) : x(t1);
      seatsPath += `${seatsPath && points[i - 1] && points[i - 1].seats !== null ? "L" : "M"}${x(p.t)},${y(p.seats)}H${xEnd}`;
    });
    if (seatsPath) chart.append(svg("path", { d: seatsPath, class: "line-seats" }));

    const path = (key) => points.filter((p) => typeof p[key] === "number")
      .map((p, i) => `${i ? "L" : "M"}${x(p.t)},${y(p[key])}`).join("");
    chart.append(svg("path", { d: path("historicalMaxUsers"), class: "line-max" }));
    chart.append(svg("path", { d: path("activeUserCount"), class: "line-active" }));

    const box = h("div", { class: "chart-box" });
    const tip = h("div", { class: "chart-tip", role: "status", hidden: true });
    const describe = (p) => `${isoDay(p.t)} · version ${p.version || "unknown"} · ${fmt(p.activeUserCount)} active users · `
      + `${fmt(p.historicalMaxUsers)} historical max users · ${p.seats === null ? "no license" : `${fmt(p.seats)} licensed seats`}`;
    const show = (p) => {
      tip.textContent = describe(p);
      tip.hidden = false;
      tip.style.left = `${(x(p.t) / width) * 100}%`;
      tip.style.top = `${(y(p.activeUserCount || 0) / height) * 100}%`;
    };
    const hide = () => { tip.hidden = true; };
    points.forEach((p) => {
      if (typeof p.historicalMaxUsers === "number") {
        chart.append(svg("rect", {
          x: x(p.t) - 3, y: y(p.historicalMaxUsers) - 3, width: 6, height: 6, class: "point point-max", "aria-hidden": "true",
        }));
      }
      if (typeof p.activeUserCount !== "number") return;
      chart.append(svg("circle", {
        cx: x(p.t), cy: y(p.activeUserCount), r: 4.5, class: "point point-active", tabindex: "0", role: "img",
        "aria-label": describe(p),
        dataset: {
          recordedAt: p.recordedAt, version: p.version || "", activeUsers: p.activeUserCount,
          maxUsers: p.historicalMaxUsers ?? "", seats: p.seats ?? "",
        },
        onmouseenter: () => show(p), onfocus: () => show(p), onmouseleave: hide, onblur: hide,
      }, svg("title", {}, describe(p))));
    });
    fill(box, chart, tip);

    const last = points[points.length - 1];
    const caption = h("figcaption", { id: `${id}-caption` },
      h("strong", {}, host), ` — ${points.length} usage ping${points.length === 1 ? "" : "s"} from ${isoDay(t0)} to ${isoDay(last.t)}; `,
      `latest: ${fmt(last.activeUserCount)} active users`,
      last.seats === null ? "" : ` of ${fmt(last.seats)} licensed seats`, ".");
    return fill(figure, caption, legend([
      ["line-active", "circle", "Active users"],
      ["line-max", "rect", "Historical max users"],
      ["line-seats", null, "Licensed seats"],
    ]), box, numbers(`Usage pings of ${host}`,
      ["Recorded", "Version", "Active users", "Historical max users", "Licensed seats"],
      points.map((p) => [isoDay(p.t), p.version || "—", fmt(p.activeUserCount), fmt(p.historicalMaxUsers), fmt(p.seats)])));
  }

  // A legend of line styles (and markers), each with its words.
  function legend(entries) {
    const { h, svg } = dom();
    return h("ul", { class: "chart-legend" }, entries.map(([cls, marker, text]) => h("li", {},
      svg("svg", { viewBox: "0 0 28 10", width: 28, height: 10, "aria-hidden": "true", class: "legend-sample" },
        svg("path", { d: "M1,5H27", class: cls }),
        marker === "circle" ? svg("circle", { cx: 14, cy: 5, r: 3.5, class: "point point-active" }) : null,
        marker === "rect" ? svg("rect", { x: 11, y: 2, width: 6, height: 6, class: "point point-max" }) : null,
        marker === "trial" ? svg("rect", { x: 1, y: 1, width: 26, height: 8, class: "bar bar-trial" }) : null,
        marker === "paid" ? svg("rect", { x: 1, y: 1, width: 26, height: 8, class: "bar bar-paid" }) : null),
      ` ${text}`)));
  }

  // The chart's numbers as a table, shown on request.
  function numbers(caption, head, rows) {
    const { h } = dom();
    return h("details", { class: "chart-table" },
      h("summary", {}, "Show the numbers as a table"),
      h("table", {},
        h("caption", {}, caption),
        h("thead", {}, h("tr", {}, head.map((t, i) => h("th", { scope: "col", class: i ? "num" : null }, t)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : { class: "num" }, c)))))));
  }

  function fill(el, ...children) {
    return dom().fill(el, ...children);
  }

  // ---- License timeline --------------------------------------------------------------------

  const TIMELINE = { width: 900, left: 200, right: 20, top: 30, row: 28, bottom: 30 };

  // Where coverage by licenses breaks (gaps) and where licenses run at once (overlaps), from the
  // first start to the last expiry. Intervals are [start, end) in ms; an open end is Infinity.
  function coverage(intervals) {
    const sorted = [...intervals].sort((a, b) => a.start - b.start);
    const gaps = [];
    const overlaps = [];
    let end = null;
    for (const span of sorted) {
      if (end !== null && span.start > end) gaps.push({ start: end, end: span.start });
      if (end !== null && span.start < end) overlaps.push({ start: span.start, end: Math.min(end, span.end) });
      end = end === null ? span.end : Math.max(end, span.end);
    }
    return { gaps, overlaps };
  }

  // licenses: [{id, plan, trial, usersCount, startsAt, expiresAt}]; today: "YYYY-MM-DD".
  function licenseTimeline(licenses, today) {
    const { h, svg } = dom();
    const id = `chart-${++chartIds}`;
    const rows = licenses
      .map((l) => ({ ...l, start: parseDay(l.startsAt), end: l.expiresAt ? parseDay(l.expiresAt) : Infinity }))
      .filter((l) => l.start !== null)
      .sort((a, b) => a.start - b.start || Number(a.id) - Number(b.id));
    const figure = h("figure", { class: "chart license-timeline", "aria-labelledby": `${id}-caption` });
    if (rows.length === 0) return fill(figure, h("figcaption", { id: `${id}-caption` }, "No licenses to draw."));
    const now = parseDay(today);
    const finite = rows.map((r) => r.end).filter(Number.isFinite);
    const d0 = Math.min(...rows.map((r) => r.start), now) - 14 * DAY;
    const d1 = Math.max(...finite, ...rows.map((r) => r.start), now) + 30 * DAY;
    const { width, left, right, top, row, bottom } = TIMELINE;
    const height = top + rows.length * row + bottom;
    const x = linear(d0, d1, left, width - right);
    const clampEnd = (t) => Math.min(t, d1);
    const label = (l) => `${l.trial ? "Trial" : "Paid"} #${l.id} · ${l.plan ? l.plan[0] + l.plan.slice(1).toLowerCase() : ""} · ${fmt(l.usersCount)} users`;
    const span = (l) => `from ${isoDay(l.start)} ${Number.isFinite(l.end) ? `to ${isoDay(l.end)}` : "with no expiry"}`;

    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "group",
      "aria-label": "Licenses from start to expiry on one time axis",
      dataset: { d0, d1, plotLeft: left, plotRight: width - right },
    });
    const defs = svg("defs", {},
      svg("pattern", { id: `${id}-hatch`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        svg("rect", { width: 6, height: 6, class: "hatch-bg" }),
        svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" })));
    chart.append(defs);

    const { gaps, overlaps } = coverage(rows.map((r) => ({ start: r.start, end: r.end })));
    const band = (g, cls, text) => {
      const x1 = x(g.start);
      const x2 = x(clampEnd(g.end));
      const days = Math.round((g.end - g.start) / DAY);
      return svg("g", { class: cls, dataset: { start: isoDay(g.start), end: isoDay(g.end), days } },
        svg("rect", { x: x1, y: top - 4, width: Math.max(x2 - x1, 1), height: rows.length * row + 4 }),
        svg("text", { x: (x1 + x2) / 2, y: top - 8, class: "band-label" }, `${text} ${days} d`));
    };
    gaps.forEach((g) => chart.append(band(g, "gap", "Gap")));
    overlaps.forEach((g) => chart.append(band(g, "overlap", "Overlap")));

    // Month ticks along the bottom (at most eight).
    const months = [];
    const first = new Date(d0);
    for (let m = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1); m < d1;) {
      months.push(m);
      const d = new Date(m);
      m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    const every = Math.max(1, Math.ceil(months.length / 8));
    months.filter((_, i) => i % every === 0).forEach((m) => fill(chart,
      svg("line", { x1: x(m), x2: x(m), y1: top - 4, y2: height - bottom, class: "grid" }),
      svg("text", { x: x(m), y: height - 10, class: "tick tick-x" }, isoDay(m).slice(0, 7))));

    rows.forEach((l, i) => {
      const y0 = top + i * row;
      const x1 = x(l.start);
      const x2 = x(clampEnd(l.end));
      const text = `${label(l)}, ${span(l)}`;
      fill(chart,
        svg("text", { x: left - 8, y: y0 + row / 2 + 4, class: "row-label" }, label(l)),
        svg("rect", {
          x: x1, y: y0 + 5, width: Math.max(x2 - x1, 2), height: row - 10, rx: 3,
          class: `bar ${l.trial ? "bar-trial" : "bar-paid"}${Number.isFinite(l.end) ? "" : " open"}`,
          fill: l.trial ? `url(#${id}-hatch)` : null,
          tabindex: "0", role: "img", "aria-label": text,
          dataset: { licenseId: l.id, starts: isoDay(l.start), expires: Number.isFinite(l.end) ? isoDay(l.end) : "", x1, x2 },
        }, svg("title", {}, text)));
    });

    const xToday = x(now);
    fill(chart,
      svg("line", { x1: xToday, x2: xToday, y1: top - 14, y2: height - bottom + 4, class: "today", dataset: { day: today } }),
      svg("text", { x: xToday, y: top - 16, class: "today-label" }, `Today ${today}`));

    const gapText = gaps.length ? gaps.map((g) => `${isoDay(g.start)} to ${isoDay(g.end)}`).join(", ") : "none";
    const caption = h("figcaption", { id: `${id}-caption` },
      `${rows.length} license${rows.length === 1 ? "" : "s"}; `,
      `gaps without a license: ${gapText}; overlapping licenses: ${overlaps.length}.`);
    return fill(figure, caption,
      legend([["", "paid", "Paid"], ["", "trial", "Trial (hatched)"]]),
      h("div", { class: "chart-box" }, chart),
      numbers("Licenses, oldest first", ["License", "Kind", "Plan", "Users", "Starts", "Expires"],
        rows.map((l) => [`#${l.id}`, l.trial ? "Trial" : "Paid", l.plan, fmt(l.usersCount), isoDay(l.start),
          Number.isFinite(l.end) ? isoDay(l.end) : "never"])));
  }

  window.licensedot = Object.assign(window.licensedot || {}, {
    charts: { usageChart, licenseTimeline, coverage },
  });
})();
