// The alert engine against a real SQLite database: conditions, for-duration, hysteresis, stale data,
// lifecycle and restarts, with time passed in explicitly.
import { afterEach, describe, expect, it } from 'vitest'
import { AlertActionError } from '../../../gateway/alerts/index.ts'
import { createEngineFixture, type EngineFixture } from './engine-fixture.ts'

const T0 = 1_700_000_000_000
let fx: EngineFixture

afterEach(() => fx?.close())

const events = (transitions: { event: string }[]) => transitions.map((t) => t.event)
const series = (values: number[], startMs = T0, stepMs = 1000): [number, number][] =>
  values.map((v, i) => [startMs + i * stepMs, v])

describe('value conditions', () => {
  it('opens an alert when a reading goes above the threshold, with the rendered message', () => {
    fx = createEngineFixture()
    const rule = fx.rule({ condition: { type: 'above', threshold: 80 } })
    expect(fx.feed('temp', [[T0, 79]])).toEqual([])
    const [opened] = fx.feed('temp', [[T0 + 1000, 85.5]])
    expect(opened).toEqual({
      event: 'opened',
      atMs: T0 + 1000,
      actor: null,
      comment: null,
      alert: {
        id: expect.any(Number),
        ruleId: rule.id,
        ruleName: 'rule',
        sensorId: fx.sensors['temp'],
        sensorKey: 'temp',
        machineId: fx.machineId,
        machineKey: 'press-1',
        factoryId: fx.factoryId,
        factoryKey: 'plant-1',
        state: 'active',
        severity: 'major',
        message: 'temp on Press 1 is 85.5 °C',
        openedMs: T0 + 1000,
        lastValue: 85.5,
        lastTsMs: T0 + 1000,
        triggerCount: 1,
        acknowledgedMs: null,
        acknowledgedBy: null,
        ackComment: null,
        clearedMs: null,
        clearedBy: null,
      },
    })
  })

  it('updates the open alert on re-trigger instead of opening a duplicate', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80, clearThreshold: 60 } })
    fx.feed('temp', series([90]))
    expect(fx.feed('temp', series([91, 92, 70, 93], T0 + 1000))).toEqual([])
    const [alert] = fx.storage.alerts.listAlerts()
    expect(alert).toMatchObject({ state: 'active', triggerCount: 4, lastValue: 93, lastTsMs: T0 + 4000 })
    expect(fx.storage.alerts.listAlerts()).toHaveLength(1)
  })

  it('clears automatically only once the value is back past the clear threshold', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80, clearThreshold: 75 } })
    fx.feed('temp', series([90]))
    expect(fx.feed('temp', series([78, 76], T0 + 1000))).toEqual([])
    const [cleared] = fx.feed('temp', [[T0 + 3000, 74]])
    expect(cleared!.event).toBe('cleared')
    expect(cleared!.alert).toMatchObject({ state: 'cleared', clearedBy: 'auto', clearedMs: T0 + 3000 })
  })

  it('opens below a threshold and outside a band', () => {
    fx = createEngineFixture([{ key: 'a' }, { key: 'b' }])
    fx.rule({ sensorId: fx.sensors['a'], condition: { type: 'below', threshold: 10, clearThreshold: 12 } })
    fx.rule({
      sensorId: fx.sensors['b'],
      condition: { type: 'outside', low: 0, high: 100, clearLow: 5, clearHigh: 95 },
    })
    expect(events(fx.feed('a', series([11, 9])))).toEqual(['opened'])
    expect(events(fx.feed('a', series([11, 12], T0 + 2000)))).toEqual(['cleared'])
    expect(events(fx.feed('b', series([50, 101])))).toEqual(['opened'])
    expect(events(fx.feed('b', series([97, 96, 94], T0 + 2000)))).toEqual(['cleared'])
    expect(events(fx.feed('b', series([-1], T0 + 5000)))).toEqual(['opened'])
  })

  it('opens on a rate of change over the window', () => {
    fx = createEngineFixture()
    // 10 units in 10 s is 1/s: fine; 30 units in 10 s is 3/s: too fast.
    fx.rule({ condition: { type: 'rate', windowMs: 10_000, limitPerSecond: 2, clearLimitPerSecond: 1 } })
    expect(fx.feed('temp', series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toEqual([])
    const opened = fx.feed('temp', [[T0 + 11_000, 40]])
    expect(events(opened)).toEqual(['opened'])
    expect(opened[0]!.alert.lastValue).toBe(40)
    // Flat again: the rate over the window falls below the clear limit once the jump leaves the window.
    const flat = series(Array(12).fill(40), T0 + 12_000)
    expect(events(fx.feed('temp', flat))).toEqual(['cleared'])
  })

  it('opens on an anomalous reading by robust z-score over the recent window', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'anomaly', windowReadings: 30, threshold: 3.5 } })
    const normal = Array.from({ length: 30 }, (_, i) => 20 + (i % 5) * 0.1)
    expect(fx.feed('temp', series(normal))).toEqual([])
    expect(events(fx.feed('temp', [[T0 + 30_000, 35]]))).toEqual(['opened'])
    expect(events(fx.feed('temp', [[T0 + 31_000, 20.2]]))).toEqual(['cleared'])
  })
})

describe('for-duration and hysteresis', () => {
  it('waits for N consecutive readings, and starts over when one does not hold', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 }, forReadings: 3 })
    expect(fx.feed('temp', series([90, 90, 70, 90, 90]))).toEqual([])
    expect(events(fx.feed('temp', [[T0 + 5000, 90]]))).toEqual(['opened'])
  })

  it('waits for the condition to hold N seconds, opening on a later reading', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 }, forDurationMs: 5000 })
    expect(fx.feed('temp', series([90, 90, 90, 90, 90]))).toEqual([])
    const [opened] = fx.feed('temp', [[T0 + 5000, 91]])
    expect(opened!.alert).toMatchObject({ openedMs: T0 + 5000, lastValue: 91 })
  })

  it('opens on a scheduler tick when the duration expires without further readings', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 }, forDurationMs: 5000 })
    fx.feed('temp', [[T0, 90]])
    expect(fx.tick(T0 + 4999)).toEqual([])
    const [opened] = fx.tick(T0 + 5000)
    expect(opened!.alert).toMatchObject({ state: 'active', openedMs: T0 + 5000, lastValue: 90 })
    expect(fx.tick(T0 + 6000)).toEqual([])
  })

  it('does not flap on a noisy signal hovering at the threshold', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 100, clearThreshold: 95 } })
    const noisy = Array.from({ length: 200 }, (_, i) => 100 + Math.sin(i * 1.7) * 1.5)
    const transitions = fx.feed('temp', series(noisy))
    expect(events(transitions)).toEqual(['opened'])
    expect(fx.storage.alerts.countAlerts()).toEqual({ active: 1, acknowledged: 0, cleared: 0 })
  })

  it('resumes a pending duration after a restart in the middle of it', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 }, forDurationMs: 10_000, forReadings: 4 })
    fx.feed('temp', series([90, 90]))
    fx.restart()
    expect(fx.feed('temp', [[T0 + 5000, 90]])).toEqual([])
    const [opened] = fx.feed('temp', [[T0 + 10_000, 90]])
    expect(opened!.alert).toMatchObject({ openedMs: T0 + 10_000 })
    const [event] = fx.storage.alerts.listEvents(opened!.alert.id)
    expect(event!.detail).toEqual({ value: 90, tsMs: T0 + 10_000, pendingSinceMs: T0 })
  })

  it('keeps an open alert across a restart and clears it afterwards', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 } })
    fx.feed('temp', [[T0, 90]])
    fx.restart()
    expect(fx.feed('temp', [[T0 + 1000, 95]])).toEqual([])
    expect(events(fx.feed('temp', [[T0 + 2000, 10]]))).toEqual(['cleared'])
    expect(fx.storage.alerts.listAlerts()).toHaveLength(1)
  })
})

describe('stale data', () => {
  it('opens when nothing arrived for longer than expectedIntervalMs × factor, and clears on data', () => {
    fx = createEngineFixture()
    const rule = fx.rule({ condition: { type: 'stale', factor: 3 } })
    fx.feed('temp', [[rule.createdMs, 20]])
    expect(fx.tick(rule.createdMs + 3000)).toEqual([])
    const [opened] = fx.tick(rule.createdMs + 3001)
    expect(opened!.alert).toMatchObject({
      state: 'active',
      message: 'temp on Press 1 is no data °C',
      lastValue: null,
      lastTsMs: rule.createdMs,
    })
    expect(fx.tick(rule.createdMs + 10_000)).toEqual([])
    const [cleared] = fx.feed('temp', [[rule.createdMs + 11_000, 21]])
    expect(cleared!.alert).toMatchObject({ state: 'cleared', clearedBy: 'auto' })
  })

  it('counts from the rule creation for a sensor that never reported', () => {
    fx = createEngineFixture()
    const rule = fx.rule({ condition: { type: 'stale', afterMs: 60_000 } })
    expect(fx.tick(rule.createdMs + 60_000)).toEqual([])
    expect(events(fx.tick(rule.createdMs + 60_001))).toEqual(['opened'])
  })
})

describe('lifecycle', () => {
  it('is acknowledged by a named actor with a comment, then clears automatically', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 } })
    const [opened] = fx.feed('temp', [[T0, 90]])
    const id = opened!.alert.id
    const [acked] = fx.engine.acknowledge(id, 'night shift', 'on it', T0 + 500)
    expect(acked).toMatchObject({
      event: 'acknowledged',
      actor: 'night shift',
      comment: 'on it',
      alert: {
        state: 'acknowledged',
        acknowledgedBy: 'night shift',
        acknowledgedMs: T0 + 500,
        ackComment: 'on it',
      },
    })
    expect(fx.feed('temp', [[T0 + 1000, 95]])).toEqual([])
    expect(fx.storage.alerts.getAlert(id)).toMatchObject({
      state: 'acknowledged',
      triggerCount: 2,
      lastValue: 95,
    })
    const [cleared] = fx.feed('temp', [[T0 + 2000, 50]])
    expect(cleared!.alert).toMatchObject({
      state: 'cleared',
      clearedBy: 'auto',
      acknowledgedBy: 'night shift',
    })
    expect(fx.storage.alerts.listEvents(id).map((e) => [e.event, e.actor, e.atMs])).toEqual([
      ['opened', null, T0],
      ['acknowledged', 'night shift', T0 + 500],
      ['cleared', null, T0 + 2000],
    ])
  })

  it('is cleared manually; the next excursion opens a new alert', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 } })
    const [opened] = fx.feed('temp', [[T0, 90]])
    const [cleared] = fx.engine.clear(opened!.alert.id, 'admin', 'sensor replaced', T0 + 100)
    expect(cleared!.alert).toMatchObject({ state: 'cleared', clearedBy: 'admin', clearedMs: T0 + 100 })
    const [again] = fx.feed('temp', [[T0 + 1000, 90]])
    expect(again!.event).toBe('opened')
    expect(again!.alert.id).not.toBe(opened!.alert.id)
  })

  it('refuses to acknowledge a cleared alert and to act on an unknown one', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 } })
    const [opened] = fx.feed('temp', [[T0, 90]])
    fx.feed('temp', [[T0 + 1, 10]])
    const attempt = (fn: () => unknown) => {
      try {
        fn()
        return null
      } catch (error) {
        return error instanceof AlertActionError ? error.code : error
      }
    }
    expect(attempt(() => fx.engine.acknowledge(opened!.alert.id, 'a', null, T0 + 2))).toBe(
      'ALERT_STATE_CONFLICT',
    )
    expect(attempt(() => fx.engine.clear(opened!.alert.id, 'a', null, T0 + 2))).toBe('ALERT_STATE_CONFLICT')
    expect(attempt(() => fx.engine.acknowledge(9999, 'a', null, T0 + 2))).toBe('ALERT_NOT_FOUND')
  })
})

describe('rule index', () => {
  it('binds a machine-scoped rule to every sensor of its kind, and only those', () => {
    fx = createEngineFixture([
      { key: 't1', kind: 'temperature' },
      { key: 't2', kind: 'temperature' },
      { key: 'p1', kind: 'pressure' },
    ])
    fx.rule({
      scope: 'machine',
      machineId: fx.machineId,
      sensorKind: 'temperature',
      condition: { type: 'above', threshold: 1 },
    })
    fx.rule({
      scope: 'factory',
      factoryId: fx.factoryId,
      sensorKind: null,
      condition: { type: 'above', threshold: 1000 },
    })
    expect(fx.engine.bindingCount()).toBe(5)
    expect(events(fx.feed('t2', [[T0, 5]]))).toEqual(['opened'])
    expect(fx.feed('p1', [[T0, 5]])).toEqual([])
  })

  it('ignores resent and out-of-order readings', () => {
    fx = createEngineFixture()
    fx.rule({ condition: { type: 'above', threshold: 80 }, forReadings: 2 })
    expect(fx.feed('temp', [[T0, 90]])).toEqual([])
    expect(fx.feed('temp', [[T0, 90]])).toEqual([])
    expect(fx.feed('temp', [[T0 - 1000, 90]])).toEqual([])
    expect(events(fx.feed('temp', [[T0 + 1000, 90]]))).toEqual(['opened'])
  })
})
