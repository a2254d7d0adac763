// The fleet map: halls -> scalable units -> racks (NVLink domains) -> trays on one canvas.
// Zoomed out, one cell per rack coloured by how much of it is held (a heat-map) with a mark when a tray
// is out of service; zoomed in, one cell per tray coloured by its state. Data: topology.bin (cached by
// the browser until a node is added) and state.bin (one state byte per tray, the held trays, and the
// per-rack aggregation the zoomed-out view draws from), both packed typed arrays (web/fleetmap.py).
(function () {
  "use strict";
  var COLOURS = { "free": "#e2e8f0", "reserved": "#2563eb", "on-demand": "#16a34a", "spot": "#f59e0b",
                  "spare": "#a5f3fc", "suspect": "#facc15", "cordoned": "#7c3aed", "draining": "#db2777",
                  "out-of-service": "#dc2626", "in-repair": "#7f1d1d", "burn-in": "#fb923c", "retired": "#475569" };
  var canvas, ctx, data, racks, mode, layout, selected = -1;

  // topology.bin / state.bin (web/fleetmap.py): "NCFM", u32 header length, header JSON, sections
  function unpack(buf) {
    var view = new DataView(buf), magic = String.fromCharCode.apply(null, new Uint8Array(buf, 0, 4));
    if (magic !== "NCFM") throw new Error("not a fleet map payload");
    var len = view.getUint32(4, true), head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, len)));
    var base = 8 + len, out = { head: head };
    head.sections.forEach(function (s) {
      var at = base + s.offset;
      out[s.name] = s.type === "u8" ? new Uint8Array(buf, at, s.length) : s.type === "u16" ? new Uint16Array(buf, at, s.length) :
        s.type === "i32" ? new Int32Array(buf, at, s.length) : new Uint8Array(buf, at, s.length);
    });
    return out;
  }

  // the two halves -> one columnar table; tray ids are decoded only when first needed (hover, click)
  function combine(topo, live) {
    var h = topo.head, n = h.trays, nr = h.racks.length, rack = new Int32Array(n), start = new Int32Array(nr);
    for (var r = 0, i = 0; r < nr; r++) { start[r] = i; for (var e = i + topo.rack_count[r]; i < e; i++) rack[i] = r; }
    var tenant = new Int32Array(n).fill(-1), used = new Int32Array(n);
    for (var k = 0; k < live.held.length; k++) { tenant[live.held[k]] = live.tenant[k]; used[live.held[k]] = live.used[k]; }
    var ids = null, names = topo.names;
    function id(j) {
      if (!ids) {
        var parts = new TextDecoder().decode(names).split("\n");
        ids = parts.map(function (nm, q) { return nm.charAt(0) === "!" ? nm.slice(1) : h.racks[rack[q]][0] + "-" + nm; });
      }
      return ids[j];
    }
    racks = { start: start, count: topo.rack_count, gpus: topo.rack_gpus, used: live.rack_used, bad: live.rack_bad };
    return { states: live.head.states, tenants: live.head.tenants, models: h.models, halls: h.halls, sus: h.sus,
             racks: h.racks, nvlink: h.nvlink, stale: h.version !== live.head.version, n: n, id: id,
             find: function (want) { id(0); return ids.indexOf(want); },
             trays: { rack: rack, model: topo.model, gpus: topo.gpus, state: live.state, tenant: tenant, used: used } };
  }

  function heat(f) {  // 0 -> slate-200, 1 -> blue-800
    var a = [226, 232, 240], b = [30, 64, 175];
    return "rgb(" + a.map(function (v, i) { return Math.round(v + (b[i] - v) * f); }).join(",") + ")";
  }

  function computeLayout(width) {
    var trays = mode === "trays";
    var rw = trays ? 14 : 7, th = 5, gapSu = trays ? 10 : 5, gapRow = trays ? 14 : 5, head = 20;
    var xs = new Float32Array(data.racks.length), ys = new Float32Array(data.racks.length), hs = new Float32Array(data.racks.length);
    var halls = [], y = 0, r = 0, nr = data.racks.length;
    while (r < nr) {
      var hall = data.sus[data.racks[r][1]][1];
      halls.push({ name: data.halls[hall], y: y });
      y += head;
      var x = 0, rowH = 0;
      while (r < nr && data.sus[data.racks[r][1]][1] === hall) {
        var su = data.racks[r][1], first = r;
        while (r < nr && data.racks[r][1] === su) r++;
        var count = r - first, blockW = count * rw, blockH = 0;
        for (var k = first; k < r; k++) blockH = Math.max(blockH, trays ? racks.count[k] * th : rw);
        if (x > 0 && x + blockW > width) { x = 0; y += rowH + gapRow; rowH = 0; }
        for (var j = first; j < r; j++) {
          xs[j] = x + (j - first) * rw; ys[j] = y; hs[j] = trays ? racks.count[j] * th : rw;
        }
        x += blockW + gapSu; rowH = Math.max(rowH, blockH);
      }
      y += rowH + gapRow + 6;
    }
    return { x: xs, y: ys, h: hs, rw: rw, th: th, height: Math.max(y, 40), halls: halls };
  }

  function draw() {
    var wrap = document.getElementById("mapscroll");
    var width = Math.max(320, wrap.clientWidth - 20);
    layout = computeLayout(width);
    canvas.width = width + 10; canvas.height = layout.height + 10;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.font = "12px system-ui, sans-serif"; ctx.fillStyle = "#334155";
    layout.halls.forEach(function (h) { ctx.fillText("hall " + h.name, 2, h.y + 14); });
    var t = data.trays, nr = data.racks.length, trays = mode === "trays";
    if (trays) {
      var byState = {};
      for (var r = 0; r < nr; r++) {
        for (var i = racks.start[r], e = i + racks.count[r], k = 0; i < e; i++, k++) {
          var s = t.state[i];
          (byState[s] = byState[s] || []).push(layout.x[r], layout.y[r] + k * layout.th);
        }
      }
      Object.keys(byState).forEach(function (s) {  // one fillStyle per state: fast on 100k trays
        ctx.fillStyle = COLOURS[data.states[s]] || "#000";
        var a = byState[s];
        for (var j = 0; j < a.length; j += 2) ctx.fillRect(a[j], a[j + 1], layout.rw - 2, layout.th - 1);
      });
    } else {
      for (var q = 0; q < nr; q++) {
        ctx.fillStyle = heat(racks.gpus[q] ? racks.used[q] / racks.gpus[q] : 0);
        ctx.fillRect(layout.x[q], layout.y[q], layout.rw - 1, layout.rw - 1);
        if (racks.bad[q]) { ctx.fillStyle = COLOURS["out-of-service"]; ctx.fillRect(layout.x[q], layout.y[q], 3, 3); }
      }
    }
    if (selected >= 0) {
      var sr = t.rack[selected], off = selected - racks.start[sr];
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      if (trays) ctx.strokeRect(layout.x[sr] - 1, layout.y[sr] + off * layout.th - 1, layout.rw, layout.th + 1);
      else ctx.strokeRect(layout.x[sr] - 1, layout.y[sr] - 1, layout.rw + 1, layout.rw + 1);
    }
    document.getElementById("map-mode").textContent = trays ? "one cell per tray" : "one cell per rack (heat: share of GPUs held)";
  }

  function hit(ev) {
    var box = canvas.getBoundingClientRect(), px = ev.clientX - box.left, py = ev.clientY - box.top;
    for (var r = 0; r < data.racks.length; r++) {
      var x = layout.x[r], y = layout.y[r];
      if (px >= x && px < x + layout.rw && py >= y && py < y + layout.h[r]) {
        if (mode !== "trays") return { rack: r, tray: -1 };
        var k = Math.floor((py - y) / layout.th);
        return { rack: r, tray: k < racks.count[r] ? racks.start[r] + k : -1 };
      }
    }
    return null;
  }

  function tenantOf(i) { var k = data.trays.tenant[i]; return k >= 0 ? data.tenants[k] : "—"; }
  function nvlinkOf(i) { return data.nvlink[data.id(i)] || data.racks[data.trays.rack[i]][0]; }

  function describe(h) {
    var t = data.trays;
    if (h.tray >= 0) {
      var i = h.tray;
      return data.id(i) + " · " + data.states[t.state[i]] + " · " + tenantOf(i) + " · " + t.used[i] + "/" + t.gpus[i] + " " + data.models[t.model[i]];
    }
    var r = h.rack, names = {};
    for (var j = racks.start[r], e = j + racks.count[r]; j < e; j++) if (t.tenant[j] >= 0) names[data.tenants[t.tenant[j]]] = 1;
    return data.racks[r][0] + " · " + racks.used[r] + "/" + racks.gpus[r] + " GPUs held · " +
      (Object.keys(names).join(", ") || "no tenant") + (racks.bad[r] ? " · " + racks.bad[r] + " trays out of service" : "");
  }

  function select(i) {
    selected = i;
    var t = data.trays, r = t.rack[i], su = data.sus[data.racks[r][1]];
    document.getElementById("panel-hint").hidden = true;
    document.getElementById("panel-node").hidden = false;
    document.getElementById("panel-title").textContent = data.id(i);
    document.getElementById("panel-state").textContent = data.states[t.state[i]];
    document.getElementById("panel-tenant").textContent = tenantOf(i);
    document.getElementById("panel-used").textContent = t.used[i] + " of " + t.gpus[i] + " " + data.models[t.model[i]];
    document.getElementById("panel-rack").textContent = data.racks[r][0];
    document.getElementById("panel-nvlink").textContent = nvlinkOf(i);
    document.getElementById("panel-su").textContent = su[0] + " / " + data.halls[su[1]];
    document.getElementById("panel-link").href = "/operator/nodes/" + encodeURIComponent(data.id(i));
    document.querySelectorAll("form.panel-action").forEach(function (f) {
      f.action = "/operator/nodes/" + encodeURIComponent(data.id(i)) + "/" + f.dataset.action;
      f.querySelector("input[name=next]").value = "/operator/fleet?node=" + encodeURIComponent(data.id(i));
    });
    draw();
  }

  function scrollTo(i) {
    var r = data.trays.rack[i], wrap = document.getElementById("mapscroll");
    wrap.scrollTop = Math.max(0, layout.y[r] - 100);
  }

  function start() {
    canvas = document.getElementById("fleetmap");
    if (!canvas) return;
    ctx = canvas.getContext("2d");
    var tip = document.getElementById("map-tip");
    function get(url) {
      return fetch(url, { credentials: "same-origin" }).then(function (resp) {
        if (!resp.ok) throw new Error(url.split("?")[0] + ": " + resp.status);
        return resp.arrayBuffer();
      });
    }
    var asked = performance.now();
    Promise.all([get(canvas.dataset.topology), get(canvas.dataset.state)]).then(function (both) {
      var fetched = performance.now();
      canvas.dataset.fetchMs = String(Math.round(fetched - asked));
      data = combine(unpack(both[0]), unpack(both[1]));
      mode = data.n <= 6000 ? "trays" : "racks";
      var want = canvas.dataset.selected, found = want ? data.find(want) : -1;
      if (found >= 0) { mode = "trays"; }
      draw();
      if (found >= 0) { select(found); scrollTo(found); }
      var counts = {};
      for (var c = 0; c < data.trays.state.length; c++) {
        var sn = data.states[data.trays.state[c]]; counts[sn] = (counts[sn] || 0) + 1;
      }
      document.getElementById("map-summary").textContent = data.n + " trays in " + data.racks.length +
        " racks: " + Object.keys(counts).map(function (k) { return counts[k] + " " + k; }).join(", ");
      canvas.dataset.drawMs = String(Math.round(performance.now() - fetched));
      canvas.dataset.rendered = "yes";
      canvas.dataset.renderMs = String(Math.round(performance.now()));
    }).catch(function (err) {
      document.getElementById("map-mode").textContent = "could not load the map: " + err.message;
      canvas.dataset.rendered = "error";
    });
    canvas.addEventListener("mousemove", function (ev) {
      if (!data) return;
      var h = hit(ev);
      if (!h || (mode === "trays" && h.tray < 0)) { tip.hidden = true; return; }
      tip.textContent = describe(h);
      tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 14) + "px";
      tip.hidden = false;
    });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    canvas.addEventListener("click", function (ev) {
      if (!data) return;
      var h = hit(ev);
      if (!h) return;
      if (mode !== "trays") { mode = "trays"; draw(); scrollTo(racks.start[h.rack]); select(racks.start[h.rack]); return; }
      if (h.tray >= 0) select(h.tray);
    });
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        if (!data) return;
        mode = b.dataset.zoom === "in" ? "trays" : "racks"; draw();
        if (selected >= 0 && mode === "trays") scrollTo(selected);
      });
    });
    window.addEventListener("resize", function () { if (data) draw(); });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
