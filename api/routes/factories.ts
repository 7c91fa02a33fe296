// Factory CRUD.
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { Factory, FactoryCreate, FactoryPatch, idParam } from '../schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Factories']
const params = idParam('factoryId')

export function registerFactoryRoutes(app: ApiApp, storage: Storage): void {
  const { catalog } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/factories',
      tags,
      summary: 'List factories',
      responses: { 200: json(z.object({ factories: z.array(Factory) }), 'All factories') },
    }),
    (c) => c.json({ factories: catalog.listFactories() }, 200),
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/factories',
      tags,
      summary: 'Create a factory',
      request: { body: jsonBody(FactoryCreate) },
      responses: { 201: json(Factory, 'The new factory'), ...errorResponses(409) },
    }),
    (c) => c.json(catalog.createFactory(c.req.valid('json')), 201),
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/factories/{factoryId}',
      tags,
      summary: 'Get a factory',
      request: { params },
      responses: { 200: json(Factory, 'The factory'), ...errorResponses(404) },
    }),
    (c) => {
      const { factoryId } = c.req.valid('param')
      return c.json(found(catalog.getFactory(factoryId), `factory ${factoryId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/api/v1/factories/{factoryId}',
      tags,
      summary: 'Rename a factory or change its time zone',
      request: { params, body: jsonBody(FactoryPatch) },
      responses: { 200: json(Factory, 'The updated factory'), ...errorResponses(404) },
    }),
    (c) => {
      const { factoryId } = c.req.valid('param')
      return c.json(found(catalog.updateFactory(factoryId, c.req.valid('json')), `factory ${factoryId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/factories/{factoryId}',
      tags,
      summary: 'Delete a factory with its machines, sensors and readings',
      request: { params },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(404) },
    }),
    (c) => {
      const { factoryId } = c.req.valid('param')
      found(catalog.deleteFactory(factoryId) || undefined, `factory ${factoryId}`)
      return c.body(null, 204)
    },
  )
}
