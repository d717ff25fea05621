import { Module } from '@nestjs/common';
import { BackpressureService } from './backpressure.service.js';

/** Refusing pushes while the writer or the stream is behind, and bounding request memory. */
@Module({ providers: [BackpressureService], exports: [BackpressureService] })
export class BackpressureModule {}
