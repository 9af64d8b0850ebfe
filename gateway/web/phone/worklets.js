// The softphone's two AudioWorklet processors (docs/softphone.md).
//
// "capture": microphone samples (the context runs at 16 kHz) -> PCM16 frames of 20 ms, posted
//   to the page, which sends them to the gateway as binary WebSocket messages.
// "playback": the agent's PCM16 at 24 kHz (the context runs at 24 kHz) played back to back from
//   a queue; marks are echoed once everything queued before them has played; "clear" empties
//   the queue at once and echoes the marks still pending (as a phone carrier does).

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Int16Array(320); // 20 ms at 16 kHz
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.frame.length) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Int16Array(320);
        this.filled = 0;
      }
    }
    return true;
  }
}

class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = []; // Float32Array pieces waiting to play
    this.offset = 0; // read position in chunks[0]
    this.queued = 0; // samples ever queued
    this.played = 0; // samples ever played
    this.cleared = 0; // samples dropped by clears
    this.marks = []; // [name, position in queued samples]
    this.posted = 0; // `played` when progress was last posted
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.pcm) {
      const pcm = new Int16Array(message.pcm);
      const samples = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
      this.chunks.push(samples);
      this.queued += samples.length;
    } else if (message.mark) {
      this.marks.push([message.mark, this.queued]);
      this.echoMarks();
    } else if (message.clear) {
      const dropped = this.queued - this.played - this.cleared;
      this.cleared += dropped;
      this.chunks = [];
      this.offset = 0;
      const flushed = this.marks.map((mark) => mark[0]);
      this.marks = [];
      this.port.postMessage({ cleared: dropped, flushed, progress: this.played });
    }
  }

  echoMarks() {
    const reached = this.played + this.cleared;
    while (this.marks.length && this.marks[0][1] <= reached) {
      this.port.postMessage({ played: this.marks.shift()[0] });
    }
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    let written = 0;
    while (written < out.length && this.chunks.length) {
      const chunk = this.chunks[0];
      const take = Math.min(out.length - written, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + take), written);
      written += take;
      this.offset += take;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    out.fill(0, written);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (written) {
      this.played += written;
      this.echoMarks();
      // Progress every 100 ms of audio, and when the queue runs dry.
      if (this.played - this.posted >= 2400 || !this.chunks.length) {
        this.posted = this.played;
        this.port.postMessage({ progress: this.played });
      }
    }
    return true;
  }
}

registerProcessor("capture", Capture);
registerProcessor("playback", Playback);
