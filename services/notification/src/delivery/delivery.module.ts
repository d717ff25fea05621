import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module.js';
import { AttemptsRepository } from './attempts.repository.js';
import { ChannelSender } from './channel-sender.js';
import { DeliveryService } from './delivery.service.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { DeliveryRpcController } from './delivery-rpc.controller.js';
import { deliveryMetricsProvider } from './delivery.metrics.js';

@Module({
  imports: [ChannelsModule],
  controllers: [DeliveryRpcController],
  providers: [AttemptsRepository, ChannelSender, DeliveryService, AlertDispatcher, deliveryMetricsProvider],
})
export class DeliveryModule {}
