import type { Provider } from '@nestjs/common';
import { NOTIFICATION_CONFIG, decodeEncryptionKey, type NotificationConfig } from '../config.js';
import { SecretBox } from './secret-box.js';

export const secretBoxProvider: Provider = {
  provide: SecretBox,
  inject: [NOTIFICATION_CONFIG],
  useFactory: (config: NotificationConfig) => {
    const key = decodeEncryptionKey(config.NOTIFICATION_ENCRYPTION_KEY);
    // the config schema already refused a bad key; this guards a config built by hand
    if (!key) throw new Error('NOTIFICATION_ENCRYPTION_KEY must be the base64 of exactly 32 bytes');
    return new SecretBox(key);
  },
};
