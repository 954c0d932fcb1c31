/** The live channel. */
import type { Channel } from '../channel'

export const liveChannel: Channel = {
  name: 'live',
  async accept() {},
  async sendDue() {},
}
