export const TEST_WEBHOOK_SECRET = 'test-webhook-secret';
