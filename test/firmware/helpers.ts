import { loadCatalog } from '../../src/boards/catalog.js';
import type { FirmwareReport } from '../../src/firmware/report.js';

export const catalog = loadCatalog({ noUserConfig: true });
export const ids = (r: FirmwareReport, severity?: 'error' | 'warning' | 'info') => r.findings.filter((f) => !severity || f.severity === severity).map((f) => f.id);
export const errors = (r: FirmwareReport) => ids(r, 'error');
