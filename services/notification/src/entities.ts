import { NotificationChannelEntity } from './channels/notification-channel.entity.js';
import { AlertNotificationEntity } from './delivery/alert-notification.entity.js';

export const ENTITIES = [NotificationChannelEntity, AlertNotificationEntity];
