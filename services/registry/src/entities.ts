import { AgentConfigEntity, AgentEntity, AgentTagEntity } from './agents/agent.entity.js';
import { OutboxEntity } from './outbox/outbox.entity.js';

export const ENTITIES = [AgentEntity, AgentTagEntity, AgentConfigEntity, OutboxEntity];
