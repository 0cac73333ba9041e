// 报送控制台: uploads, actions with progress, the board refreshed in place. No framework.
"use strict";
(function () {
  const board = document.getElementById("board");
  if (!board) return;
  const period = board.dataset.period;
  const data = JSON.parse(document.getElementById("console-data").textContent);

  const OFFLINE = "无法连接控制台：请确认控制台窗口仍在运行，然后刷新本页。";

  function post(url, body) {
    return fetch(url, {method: "POST", body: body, credentials: "same-origin"})
      .catch(() => { throw new Error(OFFLINE); })
      .then(async (response) => {
        let json = {};
        try { json = await response.json(); } catch (e) { json = {error: "控制台没有正常回应（" + response.status + "）。"}; }
        if (!response.ok) throw new Error(json.error || ("请求没有完成（" + response.status + "）。"));
        return json;
      });
  }

  // Put the parts of the board that change (counts, units, downloads) in place from a fresh copy.
  function refresh() {
    return fetch(location.href, {credentials: "same-origin"}).then((r) => r.text()).then((html) => {
      const fresh = new DOMParser().parseFromString(html, "text/html");
      for (const id of ["board", "units", "outputs", "others"]) {
        const now = document.getElementById(id), next = fresh.getElementById(id);
        if (now && next) now.replaceWith(next);
      }
      bindFilters();
    });
  }

  function bindFilters() {
    const buttons = document.querySelectorAll(".count");
    buttons.forEach((button) => button.addEventListener("click", () => {
      buttons.forEach((b) => b.classList.toggle("active", b === button));
      const state = button.dataset.filter;
      document.querySelectorAll("#units tbody tr").forEach((row) => {
        row.hidden = Boolean(state) && row.dataset.state !== state;
      });
    }));
  }
  bindFilters();

  // -- actions with progress
  const job = document.getElementById("job"), label = document.getElementById("job-label");
  const bar = document.getElementById("job-progress"), message = document.getElementById("job-message");
  const actions = document.querySelectorAll(".action");

  function busy(on) { actions.forEach((b) => { b.disabled = on; }); }

  function follow(state) {
    job.hidden = false;
    label.textContent = state.state === "running" ? ("正在" + state.action + "：" + state.label) : state.action;
    if (state.total) { bar.max = state.total; bar.value = state.done; } else { bar.removeAttribute("value"); }
    if (state.state === "running") {
      setTimeout(() => fetch("/api/jobs/" + state.id, {credentials: "same-origin"})
        .then((r) => {
          if (!r.ok) throw new Error("这项操作的进度已无从查看（控制台可能重新启动过），请刷新本页。");
          return r.json();
        })
        .then(follow)
        .catch((error) => {
          message.textContent = error instanceof TypeError ? OFFLINE : error.message;
          message.className = "job-message failed";
          busy(false);
        }), 400);
      return;
    }
    bar.max = 1; bar.value = 1;
    message.textContent = state.message;
    message.className = "job-message " + state.state;
    busy(false);
    refresh();
  }

  actions.forEach((button) => button.addEventListener("click", () => {
    busy(true);
    message.textContent = ""; message.className = "job-message";
    post("/api/periods/" + period + "/actions/" + button.dataset.action).then(follow).catch((error) => {
      job.hidden = false; label.textContent = button.textContent;
      message.textContent = error.message; message.className = "job-message failed";
      busy(false);
    });
  }));

  // -- receiving files: the file input and drag-and-drop
  const drop = document.getElementById("drop"), input = document.getElementById("file-input");
  const status = document.getElementById("upload-status"), results = document.getElementById("upload-results");

  function show(entry) {
    const item = document.createElement("li");
    const name = document.createElement("b");
    name.textContent = entry.file;
    const badge = document.createElement("span");
    badge.className = "badge status-" + entry.status;
    badge.textContent = data.statuses[entry.status] || entry.status;
    const unit = document.createElement("span");
    unit.className = "unit-name";
    unit.textContent = entry.unit_code ? (data.units[entry.unit_code] || entry.unit_code) : "（无法确定单位）";
    item.append(name, " ", badge, " ", unit);
    if (entry.findings.length) {
      const list = document.createElement("ul");
      for (const f of entry.findings) {
        const line = document.createElement("li");
        line.className = "finding " + f.severity;
        line.textContent = (f.severity === "error" ? "错误" : "提醒") + " · " + (f.location || "（整个文件）") + "：" + f.message;
        const fix = document.createElement("em");
        fix.textContent = f.fix;
        line.append(fix);
        list.append(line);
      }
      item.append(list);
    }
    results.prepend(item);
  }

  function upload(files) {
    if (!files.length) return;
    const body = new FormData();
    for (const file of files) body.append("file", file, file.name);
    status.textContent = "正在收取并检查 " + files.length + " 个文件…";
    status.className = "job-message";
    busy(true);
    // The files are collected with every other file of the month: show how far that has got.
    const watch = setInterval(() => fetch("/api/jobs/current", {credentials: "same-origin"})
      .then((r) => r.json()).catch(() => null).then((state) => {
        if (!state || !state.total) return;
        job.hidden = false;
        label.textContent = "正在" + state.action + "：" + state.label;
        bar.max = state.total; bar.value = state.done;
      }), 500);
    post("/api/periods/" + period + "/files", body).then((json) => {
      status.textContent = "已收取并检查，结果如下（汇总报告要再点“合并汇总”才包含新收的文件）：";
      json.files.slice().reverse().forEach(show);
      for (const skipped of json.skipped || []) {
        const item = document.createElement("li");
        item.className = "skipped";
        item.textContent = skipped.message;
        results.prepend(item);
      }
      return refresh();
    }).catch((error) => {
      status.textContent = error.message;
      status.className = "job-message failed";
    }).finally(() => {
      clearInterval(watch);
      job.hidden = true;
      busy(false);
      input.value = "";
    });
  }

  input.addEventListener("change", () => upload(input.files));
  ["dragenter", "dragover"].forEach((kind) => drop.addEventListener(kind, (event) => {
    event.preventDefault(); drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((kind) => drop.addEventListener(kind, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => { event.preventDefault(); upload(event.dataTransfer.files); });

  const running = document.querySelector(".action:disabled");
  if (running) fetch("/api/jobs/current", {credentials: "same-origin"}).then((r) => r.json())
    .then((state) => { if (state) follow(state); }).catch(() => {});
})();
