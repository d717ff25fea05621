import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { SystemModule } from '../system/system.module.js';
import { DashboardSocketServer } from './dashboard-socket.server.js';

/** Live events to the dashboard over socket.io. */
@Module({ imports: [AccessModule, SystemModule], providers: [DashboardSocketServer] })
export class RealtimeModule {}
