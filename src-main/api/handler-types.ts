import type { ParamsOut, ResultOf, RequestMap } from './define.ts';
import type { ApiContext } from './context.ts';

export type Handler<D> = (params: ParamsOut<D>, ctx: ApiContext) => Promise<ResultOf<D>> | ResultOf<D>;

export type HandlersFor<M extends RequestMap> = { [K in keyof M]: Handler<M[K]> };
