/**
 * `slimtext worker --queue redis://HOST:PORT --teacher DIR`: labels shards of a distributed
 * labelling run (`slimtext label --queue`) until stopped (Ctrl-C, SIGTERM) or, with --idle-exit,
 * until the queue has been empty that long (train/distill/queue/worker.ts). Argument parsing only.
 */
import { getBackend } from '../engine/index.js';
import { loadTeacher } from '../train/distill/teacher.js';
import { teacherId } from '../train/distill/teacherId.js';
import { DEFAULT_QUEUE } from '../train/distill/queue/coordinator.js';
import { DEFAULT_LOCK_MS, startWorker } from '../train/distill/queue/worker.js';
import { type Command, UsageError, flag, num, req, str } from './command.js';

const NAME = 'worker';

export const command: Command = {
  name: NAME,
  summary:
    'Labels shards for a distributed slimtext label --queue run: loads the teacher once, takes shard jobs from the BullMQ queue in Redis, and hands back their logits. ' +
    "Run as many as you like, on any machine that reaches the Redis and holds a copy of the teacher folder (the coordinator refuses another teacher's results by fingerprint).",
  usage: '--queue redis://HOST:PORT --teacher DIR [--threads N] [--idle-exit SECONDS]',
  options: {
    queue: { type: 'string', help: 'the Redis the coordinator uses (redis://HOST:PORT)' },
    teacher: { type: 'string', help: "the teacher folder (the same model as the coordinator's)" },
    'queue-name': { type: 'string', default: DEFAULT_QUEUE, help: 'queue name (as given to slimtext label --queue-name)' },
    threads: { type: 'string', help: 'threads the kernels may use (default: all cores)' },
    'lock-ms': { type: 'string', default: String(DEFAULT_LOCK_MS), help: "how long a shard stays this worker's without a lock renewal (a killed worker's shard is redone after about this long)" },
    'idle-exit': { type: 'string', help: 'exit after the queue has given no shard for this many seconds (default: run until stopped)' },
    json: { type: 'boolean', help: 'print the summary as JSON on stdout' },
    quiet: { type: 'boolean', help: 'no line per shard on stderr' },
  },
  async run(args) {
    const url = req(args, NAME, 'queue');
    const dir = req(args, NAME, 'teacher');
    const whole = (opt: string, min: number): number | undefined => {
      const v = num(args, NAME, opt);
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new UsageError(`${NAME}: --${opt} must be a whole number >= ${min}`);
      return v;
    };
    const threads = whole('threads', 1);
    if (threads !== undefined) getBackend().setThreads(threads);
    const idle = whole('idle-exit', 1);
    const id = teacherId(dir);
    const teacher = await loadTeacher(dir);
    let shards = 0;
    let texts = 0;
    let ms = 0;
    let last = Date.now();
    const quiet = flag(args, 'quiet');
    const w = await startWorker({
      url,
      queueName: str(args, 'queue-name'),
      teacher,
      fingerprint: id.fingerprint,
      lockMs: whole('lock-ms', 100),
      onStart: () => void (last = Date.now()),
      onError: (e) => console.error(`slimtext ${NAME}: ${e.message} (carrying on)`),
      onShard: (s) => {
        shards++;
        texts += s.texts;
        ms += s.ms;
        last = Date.now();
        if (!quiet) console.error(`slimtext ${NAME}: shard ${s.id}: ${s.texts} texts in ${Math.round(s.ms)} ms (${shards} shards, ${texts} texts so far)`);
      },
    });
    if (!quiet) console.error(`slimtext ${NAME} ${w.id}: waiting for shards on ${url} (teacher ${id.fingerprint.slice(0, 16)})`);
    const stop = () => void w.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const timer = idle ? setInterval(() => Date.now() - last > idle * 1000 && stop(), 250) : undefined;
    try {
      await w.done;
    } finally {
      if (timer) clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    const summary = { worker: w.id, shards, texts, teacher_seconds: Math.round(ms) / 1000, texts_per_s: Math.round(texts / Math.max(ms / 1000, 1e-9)) };
    if (flag(args, 'json')) console.log(JSON.stringify(summary));
    else console.log(`${w.id}: ${shards} shards, ${texts} texts labelled (${summary.texts_per_s} texts/s of teacher time)`);
    return 0;
  },
};
