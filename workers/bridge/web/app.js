// The controlroom browser view: one live CanvasJS chart per sensor, fed by the bridge's /ws.
//
// Everything that comes from the plant (names, serials, units, alarm text) is written with
// textContent, never as HTML, and never handed to CanvasJS (whose tooltips are HTML).
// Readings are queued per sensor and drawn once per animation frame (a paint), within a time budget,
// and only for charts on screen, so 50 sensors stay smooth.
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
  const stats = { paints: 0, renders: 0, renderMs: 0, readings: 0 };
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

  const visibility = "IntersectionObserver" in window
    ? new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const sensor = entry.target.sensor;
        if (!sensor) continue;
        sensor.visible = entry.isIntersecting;
        if (sensor.visible && sensor.stale) markDirty(sensor);
      }
    })
    : null;

  function tooltip(event) {
    // Numbers and times only: CanvasJS inserts this string as HTML.
    const point = event.entries[0].dataPoint;
    return `${timeFormat.format(new Date(point.x))} — ${formatNumber(point.y)}`;
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
      this.points = [];
      this.pending = [];
      this.latest = null;
      this.visible = true;
      this.stale = false; // has data not yet drawn
      this.drawnAt = 0;
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
        chart: this.card.querySelector(".chart"),
      };
      this.el.name.textContent = name;
      this.card.dataset.sensor = name;
      this.chart = null;
      if (hasCharts) {
        this.chart = new window.CanvasJS.Chart(this.el.chart, {
          animationEnabled: false,
          backgroundColor: "transparent",
          theme: "dark2",
          height: 180,
          axisX: { valueFormatString: "HH:mm:ss", labelFontSize: 11 },
          axisY: { includeZero: false, labelFontSize: 11, gridThickness: 0.5, stripLines: [] },
          toolTip: { contentFormatter: tooltip },
          data: [{
            type: "line", xValueType: "dateTime", markerSize: 0, lineThickness: 1.5,
            color: "#7cc4ff", dataPoints: this.points,
          }],
        });
      } else {
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
      if (this.chart) {
        this.chart.options.axisY.stripLines = safeBand(min, max);
        this.stale = true;
        markDirty(this);
      }
      if (data.state) this.setState(data.state);
    }

    setState(state) {
      if (!STATES.has(state)) return;
      this.card.dataset.state = state;
      this.el.state.textContent = state;
    }

    setAlarm(text) {
      this.el.alarm.textContent = text;
      this.el.alarm.hidden = !text;
    }

    push(x, y) {
      this.pending.push({ x, y });
      if (this.pending.length > MAX_POINTS) this.pending.splice(0, this.pending.length - MAX_POINTS);
      this.latest = y;
      this.stale = true;
      markDirty(this);
    }

    // Cheap part of a paint: text and the data array.
    absorb() {
      if (this.latest !== null) this.el.value.textContent = formatNumber(this.latest);
      if (this.pending.length === 0) return;
      const points = this.points;
      for (const point of this.pending) points.push(point);
      this.pending.length = 0;
      const horizon = points[points.length - 1].x - WINDOW_MS;
      let cut = Math.max(0, points.length - MAX_POINTS);
      while (cut < points.length && points[cut].x < horizon) cut += 1;
      if (cut > 0) points.splice(0, cut);
    }

    // Expensive part: drawing, only when on screen.
    draw() {
      if (this.chart && this.visible) {
        const start = performance.now();
        this.chart.render();
        this.drawnAt = performance.now();
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
      if (visibility) visibility.observe(sensor.card);
    }
    return sensor;
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
    const start = performance.now();
    for (const sensor of dirty) sensor.absorb();
    for (const sensor of dirty) {
      const now = performance.now();
      if (now - start > PAINT_BUDGET_MS) break; // the rest next paint
      if (sensor.visible && now - sensor.drawnAt < MIN_REDRAW_MS) continue; // drawn just now
      dirty.delete(sensor); // off screen: drawn when it scrolls into view (see visibility)
      if (sensor.visible) sensor.draw();
    }
    if (alarmsDirty) drawAlarms();
    if (dirty.size > 0) requestPaint();
  }

  // --- alarms -----------------------------------------------------------------------------

  function alarmText(alarm) {
    const since = timeFormat.format(new Date(parseTime(alarm.raisedAt)));
    return `${alarm.kind} since ${since}, peak ${formatNumber(alarm.peak)} (limit ${formatNumber(alarm.limit)})`;
  }

  function drawAlarms() {
    alarmsDirty = false;
    const list = $("alarm-list");
    const items = [];
    const perSensor = new Map();
    for (const alarm of alarms.values()) {
      const item = document.createElement("li");
      item.dataset.kind = alarm.kind === "LOW" ? "LOW" : "HIGH";
      const name = document.createElement("strong");
      name.textContent = alarm.name;
      const text = document.createElement("span");
      text.textContent = ` ${alarmText(alarm)}`;
      item.append(name, text);
      if (alarm.state) {  // the ISA-18.2 state, in words (colour is never alone)
        item.dataset.state = alarm.state;
        const state = document.createElement("span");
        state.className = "state";
        state.textContent = ` · ${alarm.state}`;
        item.append(state);
      }
      if (alarm.ackedBy) {
        const acked = document.createElement("span");
        acked.className = "acked";
        acked.textContent = ` · acknowledged by ${alarm.ackedBy}`;
        item.append(acked);
      }
      items.push(item);
      perSensor.set(alarm.name, alarmText(alarm));
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
    if (sensor) sensor.push(parseTime(data.Timestamp), data.Value);
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
      if (data.active) alarms.set(data.id, data);
      else alarms.delete(data.id);
      alarmsDirty = true;
      requestPaint();
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
    if (!hasCharts) {
      const notice = $("notice");
      notice.append("CanvasJS is missing, so there are no charts. Fetch it with ");
      const command = document.createElement("code");
      command.textContent = FETCH_COMMAND;
      notice.append(command, " and reload this page.");
      notice.hidden = false;
    }
    connect();
  }

  start();
})();
