/** The reconciler's time budget: every task checks it between units of work and stops in time. */
export class Budget {
  constructor(
    private readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {}

  static fromRemaining(remainingMs: number, safetyMs = 15_000): Budget {
    return new Budget(Date.now() + Math.max(0, remainingMs - safetyMs));
  }

  left(): number {
    return this.deadline - this.now();
  }

  exhausted(): boolean {
    return this.left() <= 0;
  }
}
