import { LvsdError } from '@lvsd/native';

/** A checker's options are invalid: names the target, the checker and the keyword. */
export class HealthConfigError extends LvsdError {
  constructor(message: string, object?: unknown) {
    super('LVSD_ERR_HEALTH_CONFIG', message, { object });
  }
}
