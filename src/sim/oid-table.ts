import { Shutdown } from './shutdown.js';

/**
 * The MCU's object table and config state, as src/basecmd.c keeps them: `allocate_oids` makes
 * the table once, each `config_*` command fills one slot, `finalize_config` closes it and
 * records the host's config CRC (what `get_config` reports back).
 */
export class OidTable<T extends { kind: string }> {
  private oids: Array<T | undefined> | undefined;
  private finalized_ = false;
  private crc_ = 0;

  get finalized(): boolean {
    return this.finalized_;
  }

  get crc(): number {
    return this.crc_;
  }

  allocate(count: number): void {
    if (this.oids) throw new Shutdown('oids already allocated');
    this.oids = new Array<T | undefined>(count).fill(undefined);
  }

  finalize(crc: number): void {
    if (this.finalized_) throw new Shutdown('Already finalized');
    this.finalized_ = true;
    this.crc_ = crc;
  }

  /** oid_alloc: a free slot of an allocated table, before the config is finalized. */
  assign(oid: number, obj: T): void {
    if (!this.oids || oid >= this.oids.length || this.oids[oid] || this.finalized_) throw new Shutdown("Can't assign oid");
    this.oids[oid] = obj;
  }

  /** oid_lookup: the object must exist and be of the kind the command works on. */
  get<K extends T['kind']>(oid: number, kind: K): Extract<T, { kind: K }> {
    const o = this.oids?.[oid];
    if (!o || o.kind !== kind) throw new Shutdown('Invalid oid type');
    return o as Extract<T, { kind: K }>;
  }
}
