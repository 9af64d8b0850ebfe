// The softphone page: one call at a time through the gateway's browser dialect
// (docs/softphone.md). Capture and playback run in AudioWorklets (worklets.js); this file
// places the call, moves audio and control messages, and shows what the gateway reports.
"use strict";

const $ = (id) => document.getElementById(id);

// What the page did, for people and for the browser tests (window.phone.counters).
const counters = {
  sentSamples: 0, // caller samples sent (16 kHz)
  sentPeak: 0, // largest caller sample sent
  receivedSamples: 0, // agent samples received (24 kHz)
  receivedPeak: 0,
  playedSamples: 0, // agent samples played by the playback worklet
  clearedSamples: 0, // agent samples a clear dropped before they played
  clears: 0,
  marksEchoed: 0,
  digitsSent: 0,
};
const phone = { counters, state: "idle", endReason: null, events: [], transcript: [] };
window.phone = phone;

let socket = null;
let capture = null; // { context, node, stream }
let playback = null; // { context, node }

function status(text) {
  $("status").textContent = text;
}

function setState(state) {
  phone.state = state;
  const busy = state === "connecting" || state === "live";
  $("call").disabled = busy;
  $("hangup").disabled = !busy;
}

function addEvent(text) {
  phone.events.push(text);
  const item = document.createElement("li");
  item.textContent = new Date().toLocaleTimeString() + "  " + text;
  $("events").appendChild(item);
  item.scrollIntoView({ block: "nearest" });
}

// The transcript: pieces of one speaker's turn join its current line.
let lastLine = null;
function addTranscript(role, text) {
  if (!lastLine || lastLine.role !== role || lastLine.closed) {
    const item = document.createElement("li");
    item.className = role;
    item.innerHTML = '<span class="role"></span><span class="text"></span>';
    item.querySelector(".role").textContent = role === "caller" ? "you" : "agent";
    $("transcript").appendChild(item);
    lastLine = { role, text: "", item, closed: false };
    phone.transcript.push(lastLine);
  }
  lastLine.text += text;
  lastLine.item.querySelector(".text").textContent = lastLine.text;
  lastLine.item.scrollIntoView({ block: "nearest" });
}

function showFigures(figures) {
  const body = $("figures").querySelector("tbody");
  body.textContent = "";
  for (const [name, value] of Object.entries(figures)) {
    if (name === "type" || name === "event" || name === "reason") continue;
    const row = body.insertRow();
    row.insertCell().textContent = name.replace(/_/g, " ");
    row.insertCell().textContent = value === null || value === undefined ? "–" : String(value);
  }
}

async function loadSetup() {
  const response = await fetch("/phone/setup");
  const setup = await response.json();
  const select = $("profile");
  select.textContent = "";
  for (const profile of setup.profiles) {
    const option = document.createElement("option");
    option.value = profile.number;
    option.textContent = profile.name + (profile.number ? " (" + profile.number + ")" : "");
    select.appendChild(option);
  }
  $("key-row").hidden = !setup.key_required;
  $("report").hidden = !setup.last_report;
}

async function startAudio() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  const captureContext = new AudioContext({ sampleRate: 16000 });
  await captureContext.audioWorklet.addModule("/phone/static/worklets.js");
  const source = captureContext.createMediaStreamSource(stream);
  const captureNode = new AudioWorkletNode(captureContext, "capture");
  captureNode.port.onmessage = (event) => sendAudio(event.data);
  source.connect(captureNode);
  capture = { context: captureContext, node: captureNode, stream };

  const playContext = new AudioContext({ sampleRate: 24000 });
  await playContext.audioWorklet.addModule("/phone/static/worklets.js");
  const playNode = new AudioWorkletNode(playContext, "playback", { outputChannelCount: [1] });
  playNode.port.onmessage = (event) => fromPlayback(event.data);
  playNode.connect(playContext.destination);
  playback = { context: playContext, node: playNode };
  await Promise.all([captureContext.resume(), playContext.resume()]);
}

function stopAudio() {
  if (capture) {
    capture.stream.getTracks().forEach((track) => track.stop());
    capture.context.close();
    capture = null;
  }
  if (playback) {
    playback.context.close();
    playback = null;
  }
}

function sendAudio(buffer) {
  if (!socket || socket.readyState !== WebSocket.OPEN || phone.state !== "live") return;
  const samples = new Int16Array(buffer);
  for (let i = 0; i < samples.length; i++) {
    const level = Math.abs(samples[i]);
    if (level > counters.sentPeak) counters.sentPeak = level;
  }
  counters.sentSamples += samples.length;
  socket.send(buffer);
}

function fromPlayback(message) {
  if (message.progress !== undefined) counters.playedSamples = message.progress;
  if (message.played !== undefined) echoMark(message.played);
  if (message.cleared !== undefined) {
    counters.clearedSamples += message.cleared;
    message.flushed.forEach(echoMark);
  }
}

function echoMark(name) {
  counters.marksEchoed += 1;
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "played", name }));
  }
}

function fromGateway(data) {
  if (data instanceof ArrayBuffer) {
    const samples = new Int16Array(data);
    for (let i = 0; i < samples.length; i++) {
      const level = Math.abs(samples[i]);
      if (level > counters.receivedPeak) counters.receivedPeak = level;
    }
    counters.receivedSamples += samples.length;
    if (playback) playback.node.port.postMessage({ pcm: data }, [data]);
    return;
  }
  const message = JSON.parse(data);
  if (message.type === "mark") {
    if (playback) playback.node.port.postMessage({ mark: message.name });
    else echoMark(message.name);
  } else if (message.type === "clear") {
    counters.clears += 1;
    if (playback) playback.node.port.postMessage({ clear: true });
  } else if (message.type === "view") {
    view(message);
  }
}

function view(message) {
  switch (message.event) {
    case "transcript":
      addTranscript(message.role, message.text);
      break;
    case "barge_in":
      if (lastLine && lastLine.role === "agent") {
        lastLine.item.classList.add("cut");
      } else {
        const item = document.createElement("li");
        item.className = "barge-in";
        item.textContent = "✂ barge-in: the agent's playback was cleared";
        $("transcript").appendChild(item);
      }
      if (lastLine) lastLine.closed = true;
      addEvent("barge-in: playback cleared");
      break;
    case "dtmf":
      addEvent("keypad " + message.digit + " reached the agent");
      break;
    case "tool_started":
      addEvent("tool " + message.name + " started");
      break;
    case "tool_finished":
      addEvent("tool " + message.name + " " + message.outcome +
        (message.duration_ms === null ? "" : " in " + message.duration_ms + " ms"));
      break;
    case "handover":
      addEvent("Live session handed over" +
        (message.gap_ms === null ? "" : " (gap " + message.gap_ms + " ms)"));
      break;
    case "figures":
      showFigures(message);
      break;
    case "ended":
      phone.endReason = message.reason;
      showFigures(message);
      addEvent("call ended: " + message.reason);
      break;
  }
}

async function call() {
  setState("connecting");
  status("Starting the microphone…");
  try {
    await startAudio();
  } catch (error) {
    status("No microphone: " + error.message);
    setState("idle");
    return;
  }
  status("Calling…");
  const callId = "BR" + crypto.getRandomValues(new Uint32Array(4)).join("").slice(0, 30);
  const headers = { "content-type": "application/json" };
  const key = $("key").value;
  if (key) headers.authorization = "Bearer " + key;
  const body = { call: callId, from: $("from").value, to: $("profile").value };
  let answer;
  try {
    const response = await fetch("/phone/call", {
      method: "POST", headers, body: JSON.stringify(body),
    });
    if (response.status === 403) throw new Error("refused: " + (await response.text()));
    answer = await response.json();
  } catch (error) {
    status("The gateway did not take the call: " + error.message);
    hangUp();
    return;
  }
  if (answer.refused) {
    status("Refused: " + answer.refused);
    hangUp();
    return;
  }
  socket = new WebSocket(answer.stream);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "start", call: answer.call, token: answer.token }));
    setState("live");
    status("In call");
  };
  socket.onmessage = (event) => fromGateway(event.data);
  socket.onclose = () => ended();
}

function hangUp() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    // The gateway ends the call and closes the socket (its last words are the call's figures);
    // a gateway that does not is left after two seconds.
    socket.send(JSON.stringify({ type: "hangup" }));
    phone.state = "hanging up";
    const leaving = socket;
    setTimeout(() => leaving.close(1000, "hang-up"), 2000);
    stopAudio();
    return;
  }
  ended();
}

function ended() {
  stopAudio();
  socket = null;
  if (phone.state !== "idle") {
    setState("ended");
    status("Call ended" + (phone.endReason ? ": " + phone.endReason : ""));
    setTimeout(loadSetup, 1500); // its report, once written
  }
  $("call").disabled = false;
  $("hangup").disabled = true;
}

function press(digit) {
  if (!socket || phone.state !== "live") return;
  counters.digitsSent += 1;
  socket.send(JSON.stringify({ type: "dtmf", digit }));
}

// The report holds the call's words: behind a public URL it is fetched with the key, then shown.
async function openReport(event) {
  const key = $("key").value;
  if (!key) return; // the plain link (this machine: no key asked)
  event.preventDefault();
  const response = await fetch("/phone/report", { headers: { authorization: "Bearer " + key } });
  if (!response.ok) {
    status("The report was refused: " + (await response.text()));
    return;
  }
  const page = await response.blob();
  window.open(URL.createObjectURL(page), "_blank");
}

$("report").addEventListener("click", openReport);
$("call").addEventListener("click", call);
$("hangup").addEventListener("click", hangUp);
for (const button of $("keypad").querySelectorAll("button")) {
  button.addEventListener("click", () => press(button.textContent));
}
loadSetup().catch((error) => status("Cannot reach the gateway: " + error.message));
