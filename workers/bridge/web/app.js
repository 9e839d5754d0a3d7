// The controlroom browser view: one live CanvasJS chart per sensor, fed by the bridge's /ws.
//
// Everything that comes from the plant (names, serials, units, alarm text) is written with
// textContent, never as HTML, and never handed to CanvasJS (whose tooltips are HTML).
// Readings are queued per sensor and drawn once per animation frame (a paint), within a time budget.
// At plant scale (1,000 sensors): a chart exists only while its card is on screen (or near it),
// history is kept in plain number arrays, cards can be filtered by name or to what is abnormal,
// and an overview shows every sensor's state as a small cell with a symbol and its word.
"use strict";

(() => {
  const WINDOW_MS = 2 * 60 * 1000; // how much history a chart shows
  const MAX_POINTS = 600; // per chart, whatever the sensor's rate
  const PAINT_BUDGET_MS = 8; // chart drawing per paint
  const MIN_REDRAW_MS = 200; // a chart redraws at most 5 times a second, whatever its rate
  const RETRY_MIN_MS = 500;
  const RETRY_MAX_MS = 15000;
  const STATES = new Set(["NORMAL", "HIGH", "LOW", "STALE", "OFFLINE"]);
  const FETCH_COMMAND = "scripts/fetch-canvasjs";

  const $ = (id) => document.getElementById(id);
  const hasCharts = typeof window.CanvasJS !== "undefined";
  const sensors = new Map(); // name -> Sensor
  const alarms = new Map(); // alarm id -> alarm data
  const dirty = new Set(); // sensors with something new to draw
  let paintRequested = false;
  let alarmsDirty = false;
  // Counters for whoever wants to see how the page keeps up (devtools, the browser tests).
  const stats = { paints: 0, renders: 0, renderMs: 0, readings: 0, charts: 0, historyLoaded: false };
  window.controlroomStats = stats;

  const timeFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  const { formatNumber } = window.controlroomNumbers; // numbers.js: the TUI's rule

  function parseTime(text) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? ms : Date.now();
  }

  // --- charts ---------------------------------------------------------------------------

  // A chart is made when its card comes near the screen and destroyed when it leaves: with
  // 1,000 sensors only the few on screen cost canvases, chart objects and drawing.
  const NEAR_SCREEN = "300px 0px";
  const visibility = "IntersectionObserver" in window
    ? new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const sensor = entry.target.sensor;
        if (sensor) sensor.setVisible(entry.isIntersecting);
      }
    }, { rootMargin: NEAR_SCREEN })
    : null;

  function tooltip(event) {
    // Numbers and times only: CanvasJS inserts this string as HTML.
    const point = event.entries[0].dataPoint;
    const when = timeFormat.format(new Date(point.x));
    if (Array.isArray(point.y)) {
      return `${when} — ${formatNumber(point.y[0])} … ${formatNumber(point.y[1])}`;
    }
    return `${when} — ${formatNumber(point.y)}`;
  }

  function newChart(container, sensor) {
    return new window.CanvasJS.Chart(container, {
      animationEnabled: false,
      backgroundColor: "transparent",
      theme: "dark2",
      height: 180,
      axisX: { valueFormatString: "HH:mm:ss", labelFontSize: 11 },
      axisY: {
        includeZero: false, labelFontSize: 11, gridThickness: 0.5, stripLines: sensor.band,
      },
      toolTip: { contentFormatter: tooltip },
      data: [
        { // what was folded into each reading, from its min to its max: a spike shows here
          type: "rangeArea", xValueType: "dateTime", markerSize: 0, lineThickness: 0.5,
          color: "rgba(124, 196, 255, 0.35)", dataPoints: sensor.rangePoints,
        },
        {
          type: "line", xValueType: "dateTime", markerSize: 0, lineThickness: 1.5,
          color: "#7cc4ff", dataPoints: sensor.linePoints,
        },
      ],
    });
  }

  function safeBand(min, max) {
    const band = [];
    const colour = "rgba(63, 176, 112, 0.16)";
    if (typeof min === "number" && typeof max === "number") {
      band.push({ startValue: min, endValue: max, color: colour });
    } else if (typeof min === "number") {
      band.push({ value: min, color: "#3fb070", thickness: 1 });
    } else if (typeof max === "number") {
      band.push({ value: max, color: "#3fb070", thickness: 1 });
    }
    return band;
  }

  class Sensor {
    constructor(name) {
      this.name = name;
      this.key = name.toLowerCase(); // what the name filter matches
      // History, oldest first, as plain numbers (a fraction of the heap of point objects).
      this.xs = [];
      this.ys = [];
      this.lows = [];
      this.highs = [];
      this.pending = []; // [x, y, low, high] not yet in the history
      // CanvasJS's points, only while the chart exists (its card is on or near the screen).
      this.linePoints = null;
      this.rangePoints = null;
      this.band = [];
      this.latest = null;
      this.shownValue = null;
      this.state = "NORMAL";
      this.alarmText = "";
      this.visible = false;
      this.shown = true; // passes the filter
      this.stale = false; // has data not yet drawn
      this.drawnAt = 0;
      this.renders = 0;
      this.card = $("card-template").content.firstElementChild.cloneNode(true);
      this.card.sensor = this;
      this.el = {
        name: this.card.querySelector(".name"),
        state: this.card.querySelector(".state"),
        value: this.card.querySelector(".value"),
        unit: this.card.querySelector(".unit"),
        serial: this.card.querySelector(".serial"),
        safe: this.card.querySelector(".safe"),
        alarm: this.card.querySelector(".card-alarm"),
        warning: this.card.querySelector(".card-warning"),
        chart: this.card.querySelector(".chart"),
      };
      this.el.name.textContent = name;
      this.card.dataset.sensor = name;
      this.chart = null;
      this.cell = overviewCell(this);
      if (!hasCharts) {
        const note = document.createElement("p");
        note.className = "no-chart";
        note.textContent = "no chart: CanvasJS is missing";
        this.el.chart.append(note);
      }
    }

    describe(data) {
      this.el.unit.textContent = data.unitType || "–";
      this.el.serial.textContent = data.serialNo || "–";
      const min = data.minSafeValue;
      const max = data.maxSafeValue;
      this.el.safe.textContent = typeof min === "number" || typeof max === "number"
        ? `${formatNumber(min)} … ${formatNumber(max)}`
        : "none";
      this.band = safeBand(min, max);
      if (this.chart) {
        this.chart.options.axisY.stripLines = this.band;
        this.stale = true;
        markDirty(this);
      }
      if (data.state) this.setState(data.state);
    }

    setState(state) {
      if (!STATES.has(state)) return;
      this.state = state;
      this.card.dataset.state = state;
      this.el.state.textContent = state;
      viewChanged(this);
    }

    setAlarm(text) {
      if (text === this.alarmText) return;
      this.alarmText = text;
      this.el.alarm.textContent = text;
      this.el.alarm.hidden = !text;
      viewChanged(this);
    }

    setWarning(text) {
      this.el.warning.textContent = text;
      this.el.warning.hidden = !text;
    }

    // What the chart missed before the page opened ([[ms, value], ...] from /history): the
    // points older than any live one, in front of them.
    seed(history) {
      const first = this.xs.length ? this.xs[0]
        : this.pending.length ? this.pending[0][0] : Infinity;
      const older = history.filter((point) => Array.isArray(point)
        && typeof point[0] === "number" && typeof point[1] === "number" && point[0] < first)
        .slice(-MAX_POINTS);
      if (older.length === 0) return;
      this.xs.unshift(...older.map((point) => point[0]));
      for (const series of [this.ys, this.lows, this.highs]) {
        series.unshift(...older.map((point) => point[1]));
      }
      if (this.linePoints) {
        this.linePoints.unshift(...older.map(([x, y]) => ({ x, y })));
        this.rangePoints.unshift(...older.map(([x, y]) => ({ x, y: [y, y] })));
      }
      if (this.latest === null) this.latest = older[older.length - 1][1];
      this.stale = true;
      markDirty(this);
    }

    push(x, y, low, high) {
      this.pending.push([x, y, low, high]);
      if (this.pending.length > MAX_POINTS) this.pending.splice(0, this.pending.length - MAX_POINTS);
      this.latest = y;
      this.stale = true;
      markDirty(this);
    }

    showValue() {
      if (this.latest !== null && this.latest !== this.shownValue) {
        this.shownValue = this.latest;
        this.el.value.textContent = formatNumber(this.latest);
      }
    }

    setVisible(visible) {
      this.visible = visible;
      if (visible) {
        this.showValue();
        this.makeChart();
        if (this.stale || this.chart) markDirty(this);
      } else {
        this.dropChart();
      }
    }

    makeChart() {
      if (this.chart || !hasCharts) return;
      this.linePoints = this.xs.map((x, i) => ({ x, y: this.ys[i] }));
      this.rangePoints = this.xs.map((x, i) => ({ x, y: [this.lows[i], this.highs[i]] }));
      this.chart = newChart(this.el.chart, this);
      this.stale = true;
      stats.charts += 1;
      this.card.dataset.chart = "live";
    }

    dropChart() {
      if (!this.chart) return;
      if (typeof this.chart.destroy === "function") this.chart.destroy();
      this.el.chart.replaceChildren();
      this.chart = null;
      this.linePoints = this.rangePoints = null;
      stats.charts -= 1;
      delete this.card.dataset.chart;
    }

    // Cheap part of a paint: text and the data arrays.
    absorb() {
      if (this.visible) this.showValue(); // off screen: written when it comes on screen
      if (this.pending.length === 0) return;
      const { xs, ys, lows, highs, linePoints, rangePoints } = this;
      for (const [x, y, low, high] of this.pending) {
        xs.push(x);
        ys.push(y);
        lows.push(low);
        highs.push(high);
        if (linePoints) {
          linePoints.push({ x, y });
          rangePoints.push({ x, y: [low, high] });
        }
      }
      this.pending.length = 0;
      const horizon = xs[xs.length - 1] - WINDOW_MS;
      let cut = Math.max(0, xs.length - MAX_POINTS);
      while (cut < xs.length && xs[cut] < horizon) cut += 1;
      if (cut > 0) {
        for (const series of [xs, ys, lows, highs, linePoints, rangePoints]) {
          if (series) series.splice(0, cut);
        }
      }
    }

    // Expensive part: drawing, only when on screen.
    draw() {
      if (this.chart && this.visible) {
        const start = performance.now();
        this.chart.render();
        this.drawnAt = performance.now();
        this.renders += 1;
        this.card.dataset.renders = String(this.renders);
        stats.renders += 1;
        stats.renderMs += this.drawnAt - start;
        this.stale = false;
      }
    }
  }

  function sensorFor(name) {
    let sensor = sensors.get(name);
    if (!sensor) {
      sensor = new Sensor(name);
      sensors.set(name, sensor);
      $("sensors").append(sensor.card);
      $("empty").hidden = true;
      applyView(sensor);
      if (visibility) visibility.observe(sensor.card);
      else sensor.setVisible(true); // no observer: every chart, as before
      const history = earlier.get(name);
      if (history) {
        earlier.delete(name);
        sensor.seed(history);
      }
    }
    return sensor;
  }

  // --- history: each chart starts with the readings it missed (GET /history) -------------

  const earlier = new Map(); // name -> points, until the sensor is described

  function loadHistory() {
    fetch("/history", { cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data || typeof data.sensors !== "object" || data.sensors === null) return;
        for (const [name, points] of Object.entries(data.sensors)) {
          if (!Array.isArray(points)) continue;
          const sensor = sensors.get(name);
          if (sensor) sensor.seed(points);
          else earlier.set(name, points);
        }
        stats.historyLoaded = true;
      })
      .catch(() => {}); // no history (no database): the charts start empty, as before
  }

  // --- paints -----------------------------------------------------------------------------

  function markDirty(sensor) {
    dirty.add(sensor);
    requestPaint();
  }

  function requestPaint() {
    if (!paintRequested) {
      paintRequested = true;
      window.requestAnimationFrame(paint);
    }
  }

  function paint() {
    paintRequested = false;
    stats.paints += 1;
    for (const sensor of dirty) sensor.absorb();
    // Drawing has its own budget, and at least one chart is drawn per paint whatever absorbing
    // cost (1,000 sensors' worth of it must not starve the few charts on screen). A drawn
    // sensor leaves the set and comes back at its end with its next reading: round robin.
    const start = performance.now();
    let drawn = 0;
    for (const sensor of dirty) {
      if (!sensor.chart || !sensor.visible) { // drawn when it comes on screen (setVisible)
        dirty.delete(sensor);
        continue;
      }
      const now = performance.now();
      if (drawn > 0 && now - start > PAINT_BUDGET_MS) break; // the rest next paint
      if (now - sensor.drawnAt < MIN_REDRAW_MS) continue; // drawn just now
      dirty.delete(sensor);
      sensor.draw();
      drawn += 1;
    }
    if (alarmsDirty) drawAlarms();
    if (summaryDirty) drawSummary();
    if (dirty.size > 0) requestPaint();
  }

  // --- the view: a filter by name, only what is abnormal, an overview of every sensor ------

  const SYMBOLS = { NORMAL: "✓", HIGH: "▲", LOW: "▼", STALE: "?", OFFLINE: "✕" };
  const view = { filter: "", abnormalOnly: false };
  let summaryDirty = false;

  function isAbnormal(sensor) {
    return sensor.state !== "NORMAL" || sensor.alarmText !== "";
  }

  function passes(sensor) {
    return (!view.filter || sensor.key.includes(view.filter))
      && (!view.abnormalOnly || isAbnormal(sensor));
  }

  // Show or hide one card; a hidden card leaves the screen, so its chart goes (the observer).
  function applyView(sensor) {
    const shown = passes(sensor);
    if (shown !== sensor.shown) {
      sensor.shown = shown;
      sensor.card.hidden = !shown;
    }
    sensor.cell.classList.toggle("outside", !shown);
  }

  function applyViewToAll() {
    for (const sensor of sensors.values()) applyView(sensor);
    summaryDirty = true;
    requestPaint();
  }

  // A sensor's state or alarm changed: its cell, whether its card is shown, the counts.
  function viewChanged(sensor) {
    setCell(sensor);
    applyView(sensor);
    summaryDirty = true;
    requestPaint();
  }

  function overviewCell(sensor) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "cell";
    cell.sensor = sensor;
    $("overview").append(cell);
    setCell(sensor, cell);
    return cell;
  }

  function setCell(sensor, cell = sensor.cell) {
    const word = sensor.alarmText && sensor.state === "NORMAL" ? "ALARM" : sensor.state;
    cell.dataset.state = sensor.state;
    cell.textContent = SYMBOLS[sensor.state] || "·";
    const label = `${sensor.name}: ${word}`;
    cell.title = label;
    cell.setAttribute("aria-label", label);
  }

  // The counts per state, in words: "998 NORMAL · 1 HIGH · 1 STALE", and how many cards show.
  function drawSummary() {
    summaryDirty = false;
    const counts = new Map();
    let shown = 0;
    for (const sensor of sensors.values()) {
      counts.set(sensor.state, (counts.get(sensor.state) || 0) + 1);
      if (sensor.shown) shown += 1;
    }
    const parts = [];
    for (const state of STATES) {
      if (counts.get(state)) parts.push(`${SYMBOLS[state]} ${counts.get(state)} ${state}`);
    }
    $("overview-summary").textContent = parts.join(" · ");
    const filtered = view.filter || view.abnormalOnly;
    $("shown").textContent = filtered
      ? `showing ${shown} of ${sensors.size} sensors`
      : `${sensors.size} sensors`;
    $("nothing-shown").hidden = !(filtered && shown === 0 && sensors.size > 0);
  }

  function startView() {
    const filter = $("filter");
    const abnormal = $("abnormal-only");
    let typing = null;
    filter.addEventListener("input", () => {
      clearTimeout(typing); // one pass over the cards once typing pauses, not per key
      typing = setTimeout(() => {
        view.filter = filter.value.trim().toLowerCase();
        applyViewToAll();
      }, 120);
    });
    abnormal.addEventListener("change", () => {
      view.abnormalOnly = abnormal.checked;
      applyViewToAll();
    });
    // A cell shows its sensor's card: cleared of a filter that hides it, then scrolled to.
    $("overview").addEventListener("click", (event) => {
      const sensor = event.target.sensor;
      if (!sensor) return;
      if (!sensor.shown) {
        filter.value = "";
        abnormal.checked = false;
        view.filter = "";
        view.abnormalOnly = false;
        applyViewToAll();
      }
      sensor.card.scrollIntoView({ block: "center" });
      sensor.card.classList.add("picked");
      setTimeout(() => sensor.card.classList.remove("picked"), 1500);
    });
  }

  // --- alarms -----------------------------------------------------------------------------

  function alarmText(alarm) {
    const since = timeFormat.format(new Date(parseTime(alarm.raisedAt)));
    const level = alarm.level ? `${alarm.level} ` : "";
    return `${level}${alarm.kind} since ${since}, peak ${formatNumber(alarm.peak)} (limit ${formatNumber(alarm.limit)})`;
  }

  // The alarm list's order: by priority (critical first), then newest first.
  const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };

  function byPriority(a, b) {
    const rank = (PRIORITY_RANK[a.priority] ?? 1) - (PRIORITY_RANK[b.priority] ?? 1);
    return rank || parseTime(b.raisedAt) - parseTime(a.raisedAt);
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function drawAlarms() {
    alarmsDirty = false;
    const list = $("alarm-list");
    const items = [];
    const perSensor = new Map();
    for (const alarm of [...alarms.values()].sort(byPriority)) {
      const item = document.createElement("li");
      item.dataset.kind = alarm.kind === "LOW" ? "LOW" : "HIGH";
      if (alarm.priority) {  // priority in colour and in its word
        item.dataset.priority = alarm.priority;
        item.append(span("alarm-priority", alarm.priority.toUpperCase()), " ");
      }
      const name = document.createElement("strong");
      name.textContent = alarm.name;
      item.append(name, span("alarm-text", ` ${alarmText(alarm)}`));
      if (alarm.state) {  // the ISA-18.2 state, in words (colour is never alone)
        item.dataset.state = alarm.state;
        item.append(span("alarm-state", ` · ${alarm.state}`));
      }
      if (alarm.shelvedUntil) {
        const until = timeFormat.format(new Date(parseTime(alarm.shelvedUntil)));
        item.append(span("alarm-hold", ` until ${until}`));
      }
      if (alarm.holdReason) item.append(span("alarm-hold", ` (${alarm.holdReason})`));
      if (alarm.ackedBy) item.append(span("acked", ` · acknowledged by ${alarm.ackedBy}`));
      if (alarm.comments && alarm.comments.length) {
        const comments = document.createElement("ul");
        comments.className = "alarm-comments";
        for (const comment of alarm.comments) {
          const line = document.createElement("li");
          const at = timeFormat.format(new Date(parseTime(comment.at)));
          line.textContent = `${at} ${comment.by}: ${comment.text}`;
          comments.append(line);
        }
        item.append(comments);
      }
      items.push(item);
      if (alarm.active) perSensor.set(alarm.name, alarmText(alarm));
    }
    list.replaceChildren(...items);
    $("alarm-count").textContent = String(alarms.size);
    $("no-alarms").hidden = alarms.size > 0;
    for (const sensor of sensors.values()) sensor.setAlarm(perSensor.get(sensor.name) || "");
  }

  // --- messages ---------------------------------------------------------------------------

  function onReading(data) {
    if (!data || typeof data.Name !== "string" || typeof data.Value !== "number") return;
    const sensor = sensors.get(data.Name);
    stats.readings += 1;
    if (!sensor) return;
    // A reading the bridge folded from several carries their Min and Max (docs/bridge.md).
    const value = data.Value;
    const low = typeof data.Min === "number" ? data.Min : value;
    const high = typeof data.Max === "number" ? data.Max : value;
    sensor.push(parseTime(data.Timestamp), value, low, high);
  }

  const handlers = {
    reading: onReading,
    readings(data) {
      if (Array.isArray(data)) for (const item of data) onReading(item);
    },
    source(data) {
      if (!data || typeof data.name !== "string") return;
      sensorFor(data.name).describe(data);
      alarmsDirty = true;
      requestPaint();
    },
    status(data) {
      const sensor = data && sensors.get(data.name);
      if (sensor) sensor.setState(data.state);
    },
    alarm(data) {
      if (!data || typeof data.id !== "string") return;
      // Open (active, held, or not yet acknowledged) is shown; `open` is ours, the original
      // protocol's clients read `active` alone.
      if (data.open ?? data.active) alarms.set(data.id, data);
      else alarms.delete(data.id);
      alarmsDirty = true;
      requestPaint();
    },
    warning(data) {
      if (!data || typeof data.name !== "string" || typeof data.message !== "string") return;
      sensorFor(data.name).setWarning(data.message);
    },
    hello(data) {
      if (data && typeof data.plant === "string") $("plant").textContent = `plant ${data.plant}`;
    },
    broker(data) {
      if (data && data.connected) setConnection("open", "live");
      else setConnection("degraded", "bridge connected, plant unreachable");
    },
    error(data) {
      console.warn("bridge:", data && data.message);
    },
  };

  // --- connection -------------------------------------------------------------------------

  let attempt = 0;
  let countdown = null;

  function setConnection(state, text) {
    const el = $("connection");
    el.dataset.state = state;
    el.textContent = text;
  }

  function connect() {
    setConnection("connecting", "connecting…");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(`${scheme}${location.host}/ws`);
    socket.onopen = () => {
      attempt = 0;
      setConnection("open", "live");
      alarms.clear(); // the discover answer brings the ones still active
      alarmsDirty = true;
      socket.send(JSON.stringify({ type: "hello", data: { batch: true } }));
      socket.send(JSON.stringify({ type: "discover" }));
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      const handler = message && Object.hasOwn(handlers, message.type) ? handlers[message.type] : null;
      if (handler) handler(message.data);
    };
    socket.onclose = (event) => {
      if (event.code === 1008 && event.reason.startsWith("session ended")) {
        location.assign("/login"); // the login expired or was logged out: log in again
        return;
      }
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      const until = Date.now() + delay;
      const reason = event.code === 1000 || event.code === 1001 ? "" : ` (code ${event.code})`;
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        setConnection("closed", `disconnected${reason}, retrying in ${left} s`);
      };
      tick();
      clearInterval(countdown);
      countdown = setInterval(tick, 1000);
      setTimeout(() => {
        clearInterval(countdown);
        connect();
      }, delay);
    };
  }

  function start() {
    startView();
    if (!hasCharts) {
      const notice = $("notice");
      notice.append("CanvasJS is missing, so there are no charts. Fetch it with ");
      const command = document.createElement("code");
      command.textContent = FETCH_COMMAND;
      notice.append(command, " and reload this page.");
      notice.hidden = false;
    }
    loadHistory();
    showLogout();
    connect();
  }

  // Behind a login (the bridge says so in /healthz), a way to log out.
  function showLogout() {
    fetch("/healthz", { cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((health) => {
        if (health && health.login === true) $("logout").hidden = false;
      })
      .catch(() => {});
  }

  start();
})();
