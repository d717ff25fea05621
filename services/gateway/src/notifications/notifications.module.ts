import { Module } from '@nestjs/common';
import { NotificationChannelsController } from './notification-channels.controller.js';

/** Notification channels (notification service). */
@Module({ controllers: [NotificationChannelsController] })
export class NotificationsModule {}
