// Machine CRUD and device credential issue/rotation.
import { z } from '@hono/zod-openapi'
import { statusTopic, telemetryTopic } from '../../broker/index.ts'
import { deviceUsername, type Machine as MachineRow, type Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { Credential, idParam, Machine, MachineCreate, MachinePatch } from '../schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Machines']
const params = idParam('machineId')

const address = (m: MachineRow) => ({ factoryKey: m.factoryKey, machineKey: m.key })

export function machineView(m: MachineRow): z.infer<typeof Machine> {
  const { factoryKey: _factoryKey, ...rest } = m
  return {
    ...rest,
    clientId: deviceUsername(m.factoryKey, m.key),
    telemetryTopic: telemetryTopic(address(m)),
  }
}

export function registerMachineRoutes(app: ApiApp, storage: Storage): void {
  const { catalog, access } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/factories/{factoryId}/machines',
      tags,
      summary: "List a factory's machines with their online status",
      request: { params: idParam('factoryId') },
      responses: { 200: json(z.object({ machines: z.array(Machine) }), 'Machines'), ...errorResponses(404) },
    }),
    (c) => {
      const { factoryId } = c.req.valid('param')
      found(catalog.getFactory(factoryId), `factory ${factoryId}`)
      return c.json({ machines: catalog.listMachines(factoryId).map(machineView) }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/factories/{factoryId}/machines',
      tags,
      summary: 'Create a machine',
      request: { params: idParam('factoryId'), body: jsonBody(MachineCreate) },
      responses: { 201: json(Machine, 'The new machine'), ...errorResponses(404, 409) },
    }),
    (c) => {
      const { factoryId } = c.req.valid('param')
      return c.json(machineView(catalog.createMachine(factoryId, c.req.valid('json'))), 201)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/machines/{machineId}',
      tags,
      summary: 'Get a machine',
      request: { params },
      responses: { 200: json(Machine, 'The machine'), ...errorResponses(404) },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      return c.json(machineView(found(catalog.getMachine(machineId), `machine ${machineId}`)), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/api/v1/machines/{machineId}',
      tags,
      summary: 'Rename a machine or switch sensor auto-registration',
      request: { params, body: jsonBody(MachinePatch) },
      responses: { 200: json(Machine, 'The updated machine'), ...errorResponses(404) },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      const machine = found(catalog.updateMachine(machineId, c.req.valid('json')), `machine ${machineId}`)
      return c.json(machineView(machine), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/machines/{machineId}',
      tags,
      summary: 'Delete a machine with its sensors, credentials and readings',
      request: { params },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(404) },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      found(catalog.deleteMachine(machineId) || undefined, `machine ${machineId}`)
      return c.body(null, 204)
    },
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/machines/{machineId}/credentials',
      tags,
      summary: "Issue or rotate the machine's MQTT password (the previous one stops working at once)",
      description: 'The password appears only in this response; only a salted hash of it is stored.',
      request: { params },
      responses: { 201: json(Credential, 'The new credential'), ...errorResponses(404) },
    }),
    async (c) => {
      const { machineId } = c.req.valid('param')
      const machine = found(catalog.getMachine(machineId), `machine ${machineId}`)
      const issued = await access.issueCredential(machineId)
      c.header('Cache-Control', 'no-store')
      return c.json(
        {
          machineId,
          clientId: issued.username,
          username: issued.username,
          password: issued.password,
          telemetryTopic: telemetryTopic(address(machine)),
          statusTopic: statusTopic(address(machine)),
        },
        201,
      )
    },
  )
}
