import { Module } from '@nestjs/common';
import { AgentDirectory } from './agent-directory.service.js';

@Module({ providers: [AgentDirectory], exports: [AgentDirectory] })
export class AgentsModule {}
