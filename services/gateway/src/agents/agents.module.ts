import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller.js';

/** The registry's agents and their configs. */
@Module({ controllers: [AgentsController] })
export class AgentsModule {}
