/** The webhooks channel. */
import type { Channel } from '../channel'

export const webhooksChannel: Channel = {
  name: 'webhooks',
  async accept() {},
  async sendDue() {},
}
