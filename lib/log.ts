/** One structured JSON logger for the process (Powertools: request ids, cold-start marks, levels). */
import { Logger } from '@aws-lambda-powertools/logger';
import { getConfig } from './config.js';

let logger: Logger | undefined;

export function log(): Logger {
  logger ??= new Logger({ serviceName: 'messages', logLevel: getConfig().logLevel });
  return logger;
}
