// A simulated plant for the dashboard soak and screenshots: machines with many sensors sending at 1 Hz over MQTT.
import type { MqttClient } from 'mqtt'
import { type ApiClient, connectDevice, publish } from '../helpers/service.ts'

export interface PlantOptions {
  factories: number
  machinesPerFactory: number
  sensorsPerMachine: number
  sendIntervalMs: number
  /** Seconds of history sent before the live loop starts (so charts are not empty). */
  backfillS: number
}

export interface Plant {
  machineIds: number[]
  sensorCount: number
  /** Readings published so far. */
  published(): number
  stop(): Promise<void>
}

const UNITS = ['°C', 'bar', 'rpm', 'A', 'mm/s', 'kW']

/** A smooth signal per sensor with noise and a rare spike, so anomaly detection has something to find. */
function signal(machine: number, sensor: number, tsMs: number): number {
  const phase = machine * 0.7 + sensor * 1.3
  const base = 50 + 20 * Math.sin(tsMs / 60_000 + phase) + 5 * Math.sin(tsMs / 7_000 + phase * 2)
  const spike = (Math.floor(tsMs / 1000) + machine * 31 + sensor * 17) % 397 === 0 ? 40 : 0
  return Math.round((base + (Math.random() - 0.5) * 2 + spike) * 100) / 100
}

export async function startPlant(api: ApiClient, mqttUrl: string, options: PlantOptions): Promise<Plant> {
  const devices: { client: MqttClient; topic: string; index: number; keys: string[] }[] = []
  const machineIds: number[] = []
  for (let f = 0; f < options.factories; f++) {
    const factory = await api.post('/api/v1/factories', { key: `plant-${f + 1}`, name: `Plant ${f + 1}` })
    for (let m = 0; m < options.machinesPerFactory; m++) {
      const machine = await api.post(`/api/v1/factories/${factory.body.id}/machines`, {
        key: `line-${m + 1}`,
        name: `Line ${f + 1}.${m + 1}`,
        // Sensors appear with the first message, which keeps setup to three requests per machine.
        autoRegisterSensors: true,
      })
      if (machine.status !== 201) throw new Error(`machine: ${JSON.stringify(machine.body)}`)
      machineIds.push(machine.body.id)
      const cred = await api.post(`/api/v1/machines/${machine.body.id}/credentials`)
      const client = await connectDevice(mqttUrl, {
        clientId: cred.body.clientId,
        username: cred.body.username,
        password: cred.body.password,
      })
      const keys = Array.from(
        { length: options.sensorsPerMachine },
        (_, s) => `s${String(s + 1).padStart(2, '0')}`,
      )
      devices.push({ client, topic: cred.body.telemetryTopic, index: devices.length, keys })
    }
  }

  let published = 0
  const snapshot = (d: (typeof devices)[number], tsMs: number) => ({
    ts: tsMs,
    values: Object.fromEntries(d.keys.map((k, s) => [k, signal(d.index, s, tsMs)])),
  })

  // History first, in batches, so the first chart load has minutes of data.
  const nowMs = Date.now()
  for (const d of devices) {
    for (let start = options.backfillS; start > 0; start -= 100) {
      const batch = []
      for (let s = start; s > Math.max(0, start - 100); s--) batch.push(snapshot(d, nowMs - s * 1000))
      await publish(d.client, d.topic, JSON.stringify(batch))
      published += batch.length * d.keys.length
    }
  }
  // Sensor names and units, once they exist.
  for (const machineId of machineIds) {
    const sensors = await api.get(`/api/v1/machines/${machineId}/sensors`)
    for (const [i, sensor] of (sensors.body.sensors as { id: number; key: string }[]).entries()) {
      await api.request('PATCH', `/api/v1/sensors/${sensor.id}`, {
        name: `Sensor ${sensor.key.slice(1)}`,
        unit: UNITS[i % UNITS.length],
        expectedIntervalMs: options.sendIntervalMs,
      })
    }
  }

  let running = true
  const timer = setInterval(() => {
    const tsMs = Date.now()
    for (const d of devices) {
      if (!running) return
      publish(d.client, d.topic, JSON.stringify(snapshot(d, tsMs))).then(
        () => {
          published += d.keys.length
        },
        () => {},
      )
    }
  }, options.sendIntervalMs)

  return {
    machineIds,
    sensorCount: devices.length * options.sensorsPerMachine,
    published: () => published,
    async stop() {
      running = false
      clearInterval(timer)
      await Promise.all(devices.map((d) => d.client.endAsync()))
    },
  }
}
