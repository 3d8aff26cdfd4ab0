import type { Request, Response } from 'express';
import type { Domain } from '../domain';
import type { Actor } from '../domain/actor';
import type { Collaborator, Mailbox } from '../models';
import type { AfterResponse } from './after-response';
import type { SealedCookies } from './cookies';
import type { Pages } from './render';
import { requestOrigin } from './client-ip';

/** Where each part of the feature answers, as paths of this site (the links in emails add BASE_URL). */
export interface FeatureUrls {
  /** The list, the add form, each collaborator and its actions. */
  collaborators: string;
  activity: string;
  accessHistory: string;
  /** The emailed links (`<password>/<token>`), the set-password form, "forgot password". */
  password: string;
  /** Our stylesheet and scripts. */
  assets: string;
  /** Where a collaborator signs in, for the pages that end a link's journey; null: no such link. */
  signIn: string | null;
  /** Where an error page's "home" link goes. */
  home: string;
}

/** What every router of the feature works with. */
export interface Feature {
  domain: Domain;
  pages: Pages;
  urls: FeatureUrls;
  cookies: SealedCookies;
  afterResponse: AfterResponse;
  /** Whether the owner is offered the rule that collaborators must use two-step verification. */
  twoStepPolicy: boolean;
}

const NOTICE = 'pec_notice';

/** After a plain-form POST: 303 to the next page, which shows `notice` once. */
export function redirectWithNotice(feature: Feature, res: Response, to: string, notice: string): void {
  feature.cookies.set(res, NOTICE, notice, { path: '/', maxAgeMs: 60_000 });
  res.redirect(303, to);
}

/** The one-time notice for this page, if any, and gone for the next one. */
export function takeNotice(feature: Feature, req: Request, res: Response): string | null {
  const notice = feature.cookies.get(req, NOTICE);
  if (notice !== null) feature.cookies.clear(res, NOTICE, '/');
  return notice;
}

/** The signed-in owner's mailbox, which the owner guard found for this request. */
export function ownerOf(res: Response): Mailbox {
  const owner: unknown = res.locals.owner;
  if (!owner) throw new Error('an owner route ran without the owner guard');
  return owner as Mailbox;
}

/** The signed-in owner as the actor of a change, with where the request came from. */
export function actorOf(req: Request, res: Response): Actor {
  const owner = ownerOf(res);
  return { type: 'owner', id: owner.id, name: owner.address, ...requestOrigin(req) };
}

/** The collaborator the `:id` of this request names, found by the router's param loader. */
export function collaboratorOf(res: Response): Collaborator {
  const collaborator: unknown = res.locals.collaborator;
  if (!collaborator) throw new Error('a collaborator route ran without its :id loader');
  return collaborator as Collaborator;
}
