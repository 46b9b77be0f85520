import type { z } from 'zod';

/**
 * A request of the contract: a zod schema for its params and a phantom result type.
 * `request(schema).returns<Result>()` keeps the result type without a runtime value.
 */
export interface RequestDef<P extends z.ZodType = z.ZodType, R = unknown> {
  params: P;
  /** Phantom: never read at run time. */
  readonly __result?: R;
}

export function request<P extends z.ZodType>(params: P) {
  return {
    returns<R>(): RequestDef<P, R> {
      return { params };
    },
  };
}

/** Phantom payload type for an event of the contract. */
export function event<T>(): EventDef<T> {
  return {};
}
export interface EventDef<T> {
  readonly __payload?: T;
}

export type RequestMap = Record<string, RequestDef>;
export type EventMap = Record<string, EventDef<unknown>>;

export type ParamsIn<D> = D extends RequestDef<infer P, unknown> ? z.input<P> : never;
export type ParamsOut<D> = D extends RequestDef<infer P, unknown> ? z.output<P> : never;
export type ResultOf<D> = D extends RequestDef<z.ZodType, infer R> ? R : never;
export type PayloadOf<D> = D extends EventDef<infer T> ? T : never;
