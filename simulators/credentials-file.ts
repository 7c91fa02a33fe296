// The credentials file shared with `factory_cli provision`/`flood`: one device per machine with its
// MQTT login, topic and sensors (schema in docs/cli.md). The simulator adds each sensor's `profile`.
import { readFileSync, writeFileSync } from 'node:fs'
import type { ProfileKind } from './profiles.ts'

export const CREDENTIALS_FILE_VERSION = 1

export interface CredentialSensor {
  id?: number | null
  key: string
  unit?: string | null
  kind?: string | null
  resolution?: number | null
  minValue?: number | null
  maxValue?: number | null
  expectedIntervalMs?: number | null
  profile?: ProfileKind
}

export interface CredentialDevice {
  factoryId?: number | null
  factoryKey: string
  machineId?: number | null
  machineKey: string
  clientId: string
  username: string
  password: string
  topic: string
  sensors: CredentialSensor[]
}

export interface CredentialsFile {
  version: number
  apiUrl?: string
  mqttUrl?: string
  devices: CredentialDevice[]
}

export function readCredentialsFile(filePath: string): CredentialsFile {
  const parsed = JSON.parse(readFileSync(filePath, 'utf8')) as CredentialsFile
  if (parsed.version !== CREDENTIALS_FILE_VERSION) {
    throw new Error(
      `${filePath}: credentials file version ${parsed.version}, expected ${CREDENTIALS_FILE_VERSION}`,
    )
  }
  if (!Array.isArray(parsed.devices) || parsed.devices.length === 0) {
    throw new Error(`${filePath}: credentials file lists no devices`)
  }
  return parsed
}

export function writeCredentialsFile(filePath: string, file: CredentialsFile): void {
  // Passwords are inside: owner-only permissions.
  writeFileSync(filePath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
}

/** The status topic next to a telemetry topic (`.../telemetry` → `.../status`). */
export function statusTopicOf(telemetryTopic: string): string {
  return telemetryTopic.replace(/\/telemetry$/, '/status')
}
