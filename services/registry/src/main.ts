import 'reflect-metadata';
import { runDatabaseService } from '@agentmon/http-kit';
import { loadRegistryConfig } from './config.js';
import { AppModule } from './app.module.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

await runDatabaseService({
  service: 'registry',
  config: loadRegistryConfig(),
  module: (config, logger) => AppModule.forRoot(config, logger),
  entities: ENTITIES,
  migrations: MIGRATIONS,
});
