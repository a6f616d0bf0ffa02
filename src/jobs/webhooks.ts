import type { FastifyBaseLogger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { JobsConfig } from '../config/schema.js';
import type { PartnerWebhook } from '../partners/api-keys.js';
import type { JobRecord, PublicJob } from './job.js';
import type { JobStore } from './store.js';
import { postWebhook, WebhookTargetRefused } from './webhook-target.js';

export type DeliveryOutcome = 'delivered' | 'failed' | 'gone' | 'gave_up' | 'refused';

/** A notification on its way: kept on disk until delivered or given up, so a restart resumes it. */
interface Delivery {
  /** `webhook-id`: the same for every attempt, so the receiver can drop duplicates. */
  id: string;
  partner: string;
  /** The JSON body, made once: every attempt sends the same bytes. */
  body: string;
  /** Attempts made so far. */
  attempts: number;
  next_at: string;
}

const SUB = 'webhooks';
const FINAL_EVENTS = new Set(['succeeded', 'failed', 'canceled']);

export interface WebhookDeps {
  store: JobStore;
  webhookOf(partner: string): PartnerWebhook | undefined;
  config: JobsConfig['webhooks'];
  log: FastifyBaseLogger;
  counted(outcome: DeliveryOutcome): void;
}

/**
 * Webhooks (Standard Webhooks): when a job succeeds, fails or is canceled, its partner's URL
 * gets `{"type": "job.<status>", "timestamp", "data": <the job>}`, signed with its secret.
 * A failed attempt (an answer other than 2xx, a timeout, a broken connection) is tried again
 * after each of WEBHOOK_RETRY_DELAYS_S in turn; 410 Gone stops the deliveries of that message.
 */
export class Webhooks {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: WebhookDeps) {}

  /** Resumes the deliveries an earlier process left. */
  async start(): Promise<void> {
    for (const delivery of (await this.deps.store.records<Delivery>(SUB)).values()) this.schedule(delivery);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** A job changed: when it reached a final state by running or by cancel, tell its partner. */
  async changed(job: JobRecord, view: () => Promise<PublicJob>): Promise<void> {
    if (!FINAL_EVENTS.has(job.status) || !this.deps.webhookOf(job.partner)) return;
    const delivery: Delivery = {
      id: `msg_${job.id}_${job.status}`,
      partner: job.partner,
      body: JSON.stringify({ type: `job.${job.status}`, timestamp: new Date().toISOString(), data: await view() }),
      attempts: 0,
      next_at: new Date().toISOString(),
    };
    await this.deps.store.saveRecord(SUB, delivery.id, delivery);
    this.schedule(delivery);
  }

  private schedule(delivery: Delivery): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(delivery.id));
    const timer = setTimeout(() => void this.attempt(delivery), Math.max(0, Date.parse(delivery.next_at) - Date.now()));
    this.timers.set(delivery.id, timer);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    this.timers.delete(delivery.id);
    const { log, config } = this.deps;
    const hook = this.deps.webhookOf(delivery.partner);
    if (!hook) return this.done(delivery);
    const now = new Date();
    const headers = {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(hook.secret).sign(delivery.id, now, delivery.body),
    };
    const attempt = delivery.attempts + 1;
    let why: string;
    try {
      const { status } = await postWebhook(hook.url, delivery.body, headers, { timeoutMs: config.timeoutS * 1000, allowPrivate: config.allowPrivateNetworks });
      if (status >= 200 && status < 300) {
        this.deps.counted('delivered');
        log.info({ webhook: delivery.id, partner: delivery.partner, attempt }, 'webhook delivered');
        return this.done(delivery);
      }
      if (status === 410) {
        this.deps.counted('gone');
        log.info({ webhook: delivery.id, partner: delivery.partner, attempt }, 'webhook answered 410 Gone: not sent again');
        return this.done(delivery);
      }
      why = `answered ${status}`;
    } catch (err) {
      if (err instanceof WebhookTargetRefused) {
        this.deps.counted('refused');
        log.warn({ webhook: delivery.id, partner: delivery.partner, reason: err.message }, 'webhook URL refused: not a public address (WEBHOOK_ALLOW_PRIVATE_NETWORKS)');
        return this.done(delivery);
      }
      why = (err as Error).message;
    }
    this.deps.counted('failed');
    const delayS = config.retryDelaysS[attempt - 1];
    if (delayS === undefined) {
      this.deps.counted('gave_up');
      log.warn({ webhook: delivery.id, partner: delivery.partner, attempts: attempt, reason: why }, 'webhook given up after its last retry');
      return this.done(delivery);
    }
    log.info({ webhook: delivery.id, partner: delivery.partner, attempt, retryInS: delayS, reason: why }, 'webhook attempt failed; will retry');
    const next: Delivery = { ...delivery, attempts: attempt, next_at: new Date(Date.now() + delayS * 1000).toISOString() };
    await this.deps.store.saveRecord(SUB, next.id, next);
    this.schedule(next);
  }

  private async done(delivery: Delivery): Promise<void> {
    await this.deps.store.saveRecord(SUB, delivery.id, undefined);
  }
}
