/** The email channel. */
import type { Channel } from '../channel'

export const emailChannel: Channel = {
  name: 'email',
  async accept() {},
  async sendDue() {},
}
