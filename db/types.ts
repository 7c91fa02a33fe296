// Row types the storage module returns: camelCase, times in epoch milliseconds.

export interface Factory {
  id: number
  key: string
  name: string
  timezone: string
  createdMs: number
  updatedMs: number
}

export type MachineStatus = 'unknown' | 'online' | 'offline'

export interface Machine {
  id: number
  factoryId: number
  factoryKey: string
  key: string
  name: string
  autoRegisterSensors: boolean
  status: MachineStatus
  statusSinceMs: number | null
  createdMs: number
  updatedMs: number
}

export interface Sensor {
  id: number
  machineId: number
  key: string
  name: string
  unit: string
  kind: string
  minValue: number | null
  maxValue: number | null
  resolution: number | null
  expectedIntervalMs: number | null
  createdMs: number
  updatedMs: number
}

export interface FactoryInput {
  key: string
  name: string
  timezone?: string
}

export interface MachineInput {
  key: string
  name: string
  autoRegisterSensors?: boolean
}

export interface SensorInput {
  key: string
  name: string
  unit?: string
  kind?: string
  minValue?: number | null
  maxValue?: number | null
  resolution?: number | null
  expectedIntervalMs?: number | null
}

/** What a device authenticates as: the machine it speaks for. */
export interface DeviceIdentity {
  machineId: number
  machineKey: string
  factoryId: number
  factoryKey: string
  username: string
}

export interface IssuedCredential {
  machineId: number
  username: string
  /** Shown once; only its hash is stored. */
  password: string
}

export type TokenScope = 'admin' | 'read'

export interface ApiToken {
  id: number
  name: string
  scope: TokenScope
  createdMs: number
  revokedMs: number | null
}

export interface Reading {
  tsMs: number
  value: number
}

export interface LatestReading {
  sensorId: number
  key: string
  unit: string
  tsMs: number
  value: number
}

export interface Reject {
  id: number
  receivedMs: number
  machineId: number | null
  clientId: string
  topic: string
  reason: string
  sensorKey: string | null
  detail: string
  payload: string
  payloadEncoding: 'utf8' | 'base64'
  payloadTruncated: boolean
}

export interface RejectFilter {
  machineId?: number
  reason?: string
  fromMs?: number
  toMs?: number
  /** Return rejects with id below this (newest first pagination). */
  beforeId?: number
  limit: number
}
