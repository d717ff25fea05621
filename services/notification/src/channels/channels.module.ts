import { Module } from '@nestjs/common';
import { secretBoxProvider } from '../crypto/secret-box.provider.js';
import { AuditPublisher } from '../audit/audit.publisher.js';
import { ChannelsService } from './channels.service.js';
import { ChannelsRpcController } from './channels-rpc.controller.js';

@Module({
  controllers: [ChannelsRpcController],
  providers: [secretBoxProvider, AuditPublisher, ChannelsService],
  exports: [ChannelsService, AuditPublisher],
})
export class ChannelsModule {}
