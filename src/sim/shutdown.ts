/**
 * Klipper's shutdown(): a command that finds the MCU in a state it cannot go on from stops with
 * a static-string reason. Thrown by the command handlers and caught by the dispatcher, which
 * abandons the rest of the block (src/sched.c sched_shutdown longjmps the same way).
 */
export class Shutdown extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
