/**
 * Option declarations, oslo.config style: every option is declared once in
 * code (name, type, default, help, secret) and everything else — parsing,
 * validation, the sample file, env overrides — derives from that declaration.
 */

export type OptType = 'string' | 'int' | 'float' | 'bool' | 'list' | 'enum';

export interface OptDef<T = unknown> {
  type: OptType;
  default: T;
  help: string;
  /** Never logged, never printed by the sample with a value. */
  secret?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Shown in the sample instead of the default (e.g. a computed path). */
  sampleDefault?: string;
}

export type OptMap = Record<string, OptDef>;

export type OptValue<D> = D extends OptDef<infer T> ? T : never;
export type GroupValues<M extends OptMap> = { readonly [K in keyof M]: OptValue<M[K]> };

export interface OptGroup<M extends OptMap = OptMap> {
  /** Section name in the INI file. For templated groups (`site:NAME`) the prefix `site`. */
  name: string;
  help: string;
  opts: M;
  /** True for `[name:INSTANCE]` sections such as `[site:backup]`. */
  templated?: boolean;
}

export function str(def: string, help: string, extra: Partial<OptDef<string>> = {}): OptDef<string> {
  return { type: 'string', default: def, help, ...extra };
}
export function int(def: number, help: string, extra: Partial<OptDef<number>> = {}): OptDef<number> {
  return { type: 'int', default: def, help, ...extra };
}
export function float(def: number, help: string, extra: Partial<OptDef<number>> = {}): OptDef<number> {
  return { type: 'float', default: def, help, ...extra };
}
export function bool(def: boolean, help: string): OptDef<boolean> {
  return { type: 'bool', default: def, help };
}
export function list(def: string[], help: string, extra: Partial<OptDef<string[]>> = {}): OptDef<string[]> {
  return { type: 'list', default: def, help, ...extra };
}
export function choice<C extends string>(def: C, choices: readonly C[], help: string): OptDef<C> {
  return { type: 'enum', default: def, choices, help };
}

export function defineGroup<M extends OptMap>(name: string, help: string, opts: M): OptGroup<M> {
  return { name, help, opts };
}

export function defineTemplatedGroup<M extends OptMap>(name: string, help: string, opts: M): OptGroup<M> {
  return { name, help, opts, templated: true };
}
