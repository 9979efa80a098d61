import { describe, expect, it } from 'vitest';
import { buildCid, decodeCid } from '../../src/sdcard/cid.js';
import { buildCsd, decodeCsd, representableCapacity } from '../../src/sdcard/csd.js';
import { crc7 } from '../../src/sdcard/crc7.js';
import { getBits, setBits } from '../../src/sdcard/register-bits.js';

describe('register bit fields', () => {
  it('number bits 127..0 from the first byte', () => {
    const r = new Uint8Array(16);
    setBits(r, 127, 126, 1);
    expect(r[0]).toBe(0x40);
    setBits(r, 7, 1, 0x7f);
    expect(r[15]).toBe(0xfe);
    setBits(r, 69, 48, 0x3a_bcde);
    expect(getBits(r, 69, 48)).toBe(0x3a_bcde);
    expect(getBits(r, 127, 120)).toBe(0x40);
  });
});

describe('CSD', () => {
  it('decodes a real SanDisk 8 GB SDHC CSD', () => {
    // 400E00325B590000 3B377F800A404000 with CRC: (C_SIZE 0x3B37 -> 7.4 GiB)
    const reg = Uint8Array.from([0x40, 0x0e, 0x00, 0x32, 0x5b, 0x59, 0x00, 0x00, 0x3b, 0x37, 0x7f, 0x80, 0x0a, 0x40, 0x40, 0]);
    reg[15] = (crc7(reg, 0, 15) << 1) | 1;
    const c = decodeCsd(reg);
    expect(c.version).toBe(2);
    expect(c.capacityType).toBe('SDHC');
    expect(c.capacityBytes).toBe((0x3b37 + 1) * 512 * 1024);
    expect(c.sectorCount).toBe((0x3b37 + 1) * 1024);
    expect(c.maxTransferHz).toBe(25e6);
    expect(c.writeProtected).toBe(false);
    expect(c.crcOk).toBe(true);
    reg[15] ^= 0x02;
    expect(decodeCsd(reg).crcOk).toBe(false);
  });

  it('round-trips an SDSC (v1) CSD with write-protect', () => {
    const reg = buildCsd({ capacityType: 'SDSC', capacityBytes: 64 * 1024 * 1024, temporaryWriteProtect: true });
    const c = decodeCsd(reg);
    expect(c.version).toBe(1);
    expect(c.capacityType).toBe('SDSC');
    expect(c.capacityBytes).toBe(64 * 1024 * 1024);
    expect(c.readBlockLength).toBe(512);
    expect(c.temporaryWriteProtect).toBe(true);
    expect(c.permanentWriteProtect).toBe(false);
    expect(c.writeProtected).toBe(true);
    expect(c.crcOk).toBe(true);
    expect(reg[15]! & 1).toBe(1);
  });

  it('uses 1024/2048-byte READ_BL_LEN for 2 GB and 4 GB SDSC cards', () => {
    const two = decodeCsd(buildCsd({ capacityType: 'SDSC', capacityBytes: 2 * 1024 ** 3 }));
    expect(two.capacityBytes).toBe(2 * 1024 ** 3);
    expect(two.readBlockLength).toBe(1024);
    const four = decodeCsd(buildCsd({ capacityType: 'SDSC', capacityBytes: 4 * 1024 ** 3 }));
    expect(four.capacityBytes).toBe(4 * 1024 ** 3);
    expect(four.readBlockLength).toBe(2048);
  });

  it('tells SDXC from SDHC by C_SIZE', () => {
    expect(decodeCsd(buildCsd({ capacityType: 'SDXC', capacityBytes: 64 * 1024 ** 3 })).capacityType).toBe('SDXC');
    expect(decodeCsd(buildCsd({ capacityType: 'SDHC', capacityBytes: 32 * 1024 ** 3 })).capacityType).toBe('SDHC');
  });

  it('rounds capacities down to what the CSD can express', () => {
    expect(representableCapacity('SDHC', 100 * 1024 * 1024 + 4096)).toBe(100 * 1024 * 1024);
    const odd = representableCapacity('SDSC', 3_000_000 * 512);
    expect(odd).toBeLessThanOrEqual(3_000_000 * 512);
    expect(decodeCsd(buildCsd({ capacityType: 'SDSC', capacityBytes: 3_000_000 * 512 })).capacityBytes).toBe(odd);
  });
});

describe('CID', () => {
  it('decodes the fields Klipper prints', () => {
    const reg = buildCid({
      manufacturerId: 0x03,
      oemId: 'SD',
      productName: 'SU04G',
      productRevision: [8, 0],
      serialNumber: 0xdeadbeef,
      manufactureYear: 2019,
      manufactureMonth: 11,
    });
    const c = decodeCid(reg);
    expect(c).toMatchObject({
      manufacturerId: 3,
      manufacturerName: 'SanDisk',
      oemId: 'SD',
      productName: 'SU04G',
      productRevision: '8.0',
      serialNumber: 0xdeadbeef,
      manufactureYear: 2019,
      manufactureMonth: 11,
      crcOk: true,
    });
  });
  it('decodes a real Kingston CID byte for byte', () => {
    // MID 0x41 'Kingston', OID "42", PNM "SD4GB", PRV 2.0, PSN 0x0102_0304, MDT 2012-03
    const reg = Uint8Array.from([0x41, 0x34, 0x32, 0x53, 0x44, 0x34, 0x47, 0x42, 0x20, 0x01, 0x02, 0x03, 0x04, 0x00, 0xc3, 0]);
    reg[15] = (crc7(reg, 0, 15) << 1) | 1;
    const c = decodeCid(reg);
    expect(c.manufacturerName).toBe('Kingston');
    expect(c.oemId).toBe('42');
    expect(c.productName).toBe('SD4GB');
    expect(c.productRevision).toBe('2.0');
    expect(c.serialNumber).toBe(0x01020304);
    expect(c.manufactureYear).toBe(2012);
    expect(c.manufactureMonth).toBe(3);
  });
  it('flags a damaged CID and accepts the SDIO form (bit 0 clear)', () => {
    const reg = buildCid();
    const sdio = reg.slice();
    sdio[15] = sdio[15]! & 0xfe;
    expect(decodeCid(sdio).crcOk).toBe(true);
    reg[4] ^= 0x10;
    expect(decodeCid(reg).crcOk).toBe(false);
  });
});
