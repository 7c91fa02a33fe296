// Sensor CRUD.
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { idParam, Sensor, SensorCreate, SensorPatch } from '../schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Sensors']
const params = idParam('sensorId')

export function registerSensorRoutes(app: ApiApp, storage: Storage): void {
  const { catalog } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/machines/{machineId}/sensors',
      tags,
      summary: "List a machine's sensors",
      request: { params: idParam('machineId') },
      responses: { 200: json(z.object({ sensors: z.array(Sensor) }), 'Sensors'), ...errorResponses(404) },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      found(catalog.getMachine(machineId), `machine ${machineId}`)
      return c.json({ sensors: catalog.listSensors(machineId) }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/machines/{machineId}/sensors',
      tags,
      summary: 'Create a sensor; readings outside [minValue, maxValue] are rejected',
      request: { params: idParam('machineId'), body: jsonBody(SensorCreate) },
      responses: { 201: json(Sensor, 'The new sensor'), ...errorResponses(404, 409) },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      return c.json(catalog.createSensor(machineId, c.req.valid('json')), 201)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}',
      tags,
      summary: 'Get a sensor',
      request: { params },
      responses: { 200: json(Sensor, 'The sensor'), ...errorResponses(404) },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      return c.json(found(catalog.getSensor(sensorId), `sensor ${sensorId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/api/v1/sensors/{sensorId}',
      tags,
      summary: 'Change a sensor (null clears an optional field)',
      request: { params, body: jsonBody(SensorPatch) },
      responses: { 200: json(Sensor, 'The updated sensor'), ...errorResponses(404) },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      return c.json(found(catalog.updateSensor(sensorId, c.req.valid('json')), `sensor ${sensorId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/sensors/{sensorId}',
      tags,
      summary: 'Delete a sensor and its readings',
      request: { params },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(404) },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      found(catalog.deleteSensor(sensorId) || undefined, `sensor ${sensorId}`)
      return c.body(null, 204)
    },
  )
}
