import type { Message, MessageOf } from '../protocol/messages.js';

/** Requests awaiting one client's reply, by the reply's type; a lost connection rejects them at once. */
export class ReplyWaits {
  private readonly replies = new Map<Message['type'], { readonly resolve: (message: Message) => void; readonly reject: (error: Error) => void }>();

  constructor(
    /** Sends a message and resolves once the client has handled it (the session's Peer). */
    private readonly send: (message: Message) => Promise<void>,
    /** The client's name, for the errors. */
    private readonly client: string,
  ) {}

  /** Sends `message` and resolves with the client's reply of type `reply` (a mode's key exchange). */
  async request<T extends Message['type']>(message: Message, reply: T, timeoutMs: number): Promise<MessageOf<T>> {
    if (this.replies.has(reply)) throw new Error(`a ${reply} reply from ${this.client} is already awaited`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<MessageOf<T>>((resolve, reject) => {
      timer = setTimeout(() => {
        this.replies.delete(reply);
        reject(new Error(`${this.client} sent no ${reply} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(reply, {
        resolve: (m) => {
          clearTimeout(timer);
          this.replies.delete(reply);
          resolve(m as MessageOf<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.replies.delete(reply);
          reject(e);
        },
      });
    });
    // A close while the message is still in flight rejects `answer` first: that ends the wait, and is never left unhandled.
    answer.catch(() => undefined);
    try {
      await Promise.race([this.send(message), answer]);
    } catch (e) {
      // Refused (or undeliverable): no reply will come, so stop waiting for one.
      clearTimeout(timer);
      this.replies.delete(reply);
      throw e;
    }
    return answer;
  }

  /** Hands `message` to the request awaiting a reply of its type; false when none does. */
  resolve(message: Message): boolean {
    const waiter = this.replies.get(message.type);
    if (!waiter) return false;
    waiter.resolve(message);
    return true;
  }

  /** Ends every wait with `error()` (the connection is gone). */
  rejectAll(error: () => Error): void {
    for (const waiter of [...this.replies.values()]) waiter.reject(error());
  }
}
